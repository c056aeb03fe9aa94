# Outputs of the platform module.

output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "API server endpoint of the EKS cluster."
  value       = aws_eks_cluster.this.endpoint
}

output "repository_urls" {
  description = "ECR repository URL per repository name."
  value       = { for name, repository in aws_ecr_repository.this : name => repository.repository_url }
}

output "ci_role_arn" {
  description = "ARN of the role CI assumes through GitHub OIDC."
  value       = aws_iam_role.ci.arn
}
