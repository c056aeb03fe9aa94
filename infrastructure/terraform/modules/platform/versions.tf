# Provider requirements of the platform module (the root configures the provider).
terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.81" # 5.81: aws_iam_openid_connect_provider without thumbprint_list
    }
  }
}
