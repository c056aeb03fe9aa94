# Inputs of the root configuration; one tfvars file per environment sets them.

variable "region" {
  type        = string
  description = "AWS region of the cluster and the registry."
  default     = "eu-west-1"
}

variable "project" {
  type        = string
  description = "Project name: prefix of resource names and the Project tag."
  default     = "mlops"
}

variable "environment" {
  type        = string
  description = "Environment name (staging or production): suffix of names and the Environment tag."

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "The environment must be staging or production, like the kustomize overlays."
  }
}

variable "kubernetes_version" {
  type        = string
  description = "EKS Kubernetes version; the manifests are validated against this version's schemas."
  default     = "1.34"
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (at least two availability zones) for the control plane and the nodes."
}

variable "node_instance_types" {
  type        = list(string)
  description = "EC2 instance types of the managed node group."
  default     = ["m6i.large"]
}

variable "node_min_size" {
  type        = number
  description = "Smallest number of nodes."
  default     = 2
}

variable "node_max_size" {
  type        = number
  description = "Largest number of nodes."
  default     = 6
}

variable "node_desired_size" {
  type        = number
  description = "Initial number of nodes (the autoscaler changes it afterwards)."
  default     = 2
}

variable "repositories" {
  type        = list(string)
  description = "Image repositories to create, as pushed by CI (<registry>/<name>)."
  default     = ["mlops/api", "mlops/predict"]
}

variable "github_repository" {
  type        = string
  description = "GitHub repository (owner/name) whose workflows may assume the CI role."
}

variable "github_ref" {
  type        = string
  description = "Git ref allowed to assume the CI role (pushes happen from main only)."
  default     = "refs/heads/main"
}

variable "extra_tags" {
  type        = map(string)
  description = "Tags added to every resource besides the required ones."
  default     = {}
}
