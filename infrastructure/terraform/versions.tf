# Terraform and provider versions for the root configuration. State lives in a backend
# configured at `terraform init -backend-config=...` time; nothing here is ever applied by CI.
terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.81" # 5.81: aws_iam_openid_connect_provider without thumbprint_list
    }
  }

  backend "s3" {}
}
