# What CI and people need after `terraform apply`: where to push, what to assume, where to deploy.

output "cluster_name" {
  description = "Name of the EKS cluster (aws eks update-kubeconfig --name ...)."
  value       = module.platform.cluster_name
}

output "cluster_endpoint" {
  description = "API server endpoint of the EKS cluster."
  value       = module.platform.cluster_endpoint
}

output "repository_urls" {
  description = "ECR repository URL per image name; the registry part is what bump receives."
  value       = module.platform.repository_urls
}

output "ci_role_arn" {
  description = "Role the CI workflow assumes with its GitHub OIDC token to push images."
  value       = module.platform.ci_role_arn
}
