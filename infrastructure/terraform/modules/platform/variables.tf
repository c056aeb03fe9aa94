# Inputs of the platform module.

variable "name" {
  type        = string
  description = "Name of the cluster and prefix of every other resource name."
}

variable "kubernetes_version" {
  type        = string
  description = "EKS Kubernetes version."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets of the control plane and the nodes."
}

variable "node_instance_types" {
  type        = list(string)
  description = "EC2 instance types of the managed node group."
}

variable "node_min_size" {
  type        = number
  description = "Smallest number of nodes."
}

variable "node_max_size" {
  type        = number
  description = "Largest number of nodes."
}

variable "node_desired_size" {
  type        = number
  description = "Initial number of nodes."
}

variable "repositories" {
  type        = list(string)
  description = "ECR repository names to create."
}

variable "github_repository" {
  type        = string
  description = "GitHub repository (owner/name) allowed to assume the CI role."
}

variable "github_ref" {
  type        = string
  description = "Git ref allowed to assume the CI role."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource that takes them."
}
