"""Structural checks of the Terraform (parsed with python-hcl2; nothing is planned or applied)."""

import pytest

from infrastructure.terraform_checks import (
    check_module,
    hard_coded_secrets,
    load_module,
    missing_required_tags,
    module_call_problems,
    untagged_resources,
    unused_variables,
)
from infrastructure.testing_support import TERRAFORM

MODULE_DIRS = [TERRAFORM, TERRAFORM / "modules" / "platform"]


@pytest.mark.parametrize("path", MODULE_DIRS, ids=str)
def test_module_passes_every_check(path):
    problems = check_module(load_module(path))
    assert not problems, "\n".join(problems)


def test_every_module_has_variables_and_outputs():
    for path in MODULE_DIRS:
        assert (path / "variables.tf").is_file(), path
        assert (path / "outputs.tf").is_file(), path


def test_the_root_sets_the_required_tags_and_passes_them_on():
    root = load_module(TERRAFORM)
    assert missing_required_tags(root) == []
    (provider,) = [block["aws"] for block in root.blocks["provider"] if "aws" in block]
    assert provider["default_tags"][0]["tags"] == "${local.tags}"
    assert root.labelled("module")["platform"]["tags"] == "${local.tags}"


def test_the_platform_has_a_cluster_a_registry_and_an_oidc_ci_role():
    types = {rtype for rtype, _, _ in load_module(TERRAFORM / "modules" / "platform").resources()}
    assert {"aws_eks_cluster", "aws_eks_node_group", "aws_ecr_repository", "aws_iam_openid_connect_provider"} <= types
    assert "aws_iam_role" in types


def test_ecr_tags_are_immutable_and_scanned():
    for rtype, _, body in load_module(TERRAFORM / "modules" / "platform").resources():
        if rtype == "aws_ecr_repository":
            assert body["image_tag_mutability"] == "IMMUTABLE"
            assert body["image_scanning_configuration"][0]["scan_on_push"] is True


# The checks themselves must catch what they claim to: each is run on a broken module.
def _module(tmp_path, text):
    (tmp_path / "main.tf").write_text(text)
    return load_module(tmp_path)


def test_an_unused_variable_is_found(tmp_path):
    module = _module(tmp_path, 'variable "used" {}\nvariable "forgotten" {}\noutput "o" { value = var.used }\n')
    assert unused_variables(module) == ["forgotten"]


def test_a_hard_coded_secret_is_found(tmp_path):
    module = _module(
        tmp_path,
        'resource "aws_db_instance" "db" {\n  password = "hunter22"\n  tags = var.tags\n}\n'
        'locals {\n  key = "AKIAABCDEFGHIJKLMNOP"\n}\n'
        'variable "tags" {}\nvariable "api_token" {\n  default = "x"\n}\n',
    )
    problems = "\n".join(hard_coded_secrets(module))
    assert "attribute password has a literal value" in problems
    assert "credential-shaped string" in problems
    assert "variable api_token looks like a secret and has a default" in problems


def test_an_untagged_resource_is_found(tmp_path):
    module = _module(tmp_path, 'resource "aws_ecr_repository" "r" {\n  name = "x"\n}\n')
    assert untagged_resources(module) == ["aws_ecr_repository.r"]


def test_a_module_call_missing_an_argument_is_found(tmp_path):
    child = tmp_path / "child"
    child.mkdir()
    (child / "main.tf").write_text('variable "needed" {}\nvariable "optional" {\n  default = 1\n}\n')
    caller = _module(tmp_path, 'module "c" {\n  source = "./child"\n  typo = 1\n}\n')
    assert module_call_problems(caller) == [
        "module c: argument typo is not a variable of ./child",
        "module c: required variable needed of ./child is not passed",
    ]


def test_unparsable_terraform_names_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"main\.tf: does not parse"):
        _module(tmp_path, 'resource "x" {\n')
