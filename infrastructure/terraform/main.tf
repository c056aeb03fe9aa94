# One environment's platform: the EKS cluster the overlays run on, the ECR repositories
# the images are pushed to, and the role CI assumes through GitHub's OIDC provider.

locals {
  # Every resource carries these; the provider adds them by default and the module passes
  # them on explicitly (some AWS resources ignore default_tags).
  tags = merge(var.extra_tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
    Repository  = var.github_repository
  })
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

module "platform" {
  source = "./modules/platform"

  name                = "${var.project}-${var.environment}"
  kubernetes_version  = var.kubernetes_version
  subnet_ids          = var.subnet_ids
  node_instance_types = var.node_instance_types
  node_min_size       = var.node_min_size
  node_max_size       = var.node_max_size
  node_desired_size   = var.node_desired_size
  repositories        = var.repositories
  github_repository   = var.github_repository
  github_ref          = var.github_ref
  tags                = local.tags
}
