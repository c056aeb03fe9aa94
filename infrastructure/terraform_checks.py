"""Structural checks of Terraform configurations, parsed with python-hcl2 (nothing is planned or applied)."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import hcl2

# Tags every resource must carry (set in the root's locals, passed to modules as var.tags).
REQUIRED_TAGS = ("Project", "Environment", "ManagedBy")

# AWS resource types that accept `tags` and must be given them explicitly.
TAGGABLE = frozenset(
    {
        "aws_eks_cluster",
        "aws_eks_node_group",
        "aws_ecr_repository",
        "aws_iam_role",
        "aws_iam_openid_connect_provider",
        "aws_iam_policy",
        "aws_security_group",
        "aws_kms_key",
        "aws_s3_bucket",
    }
)

# Attribute names that hold credentials: their value must never be a literal.
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|private_key|access_key|api_key)", re.IGNORECASE)
# Literal values that look like credentials wherever they appear.
_SECRET_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|ghp_[A-Za-z0-9]{30,})")

_OPTIONS = hcl2.SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)


@dataclass
class Module:
    """The parsed .tf files of one folder (a Terraform module)."""

    path: Path
    blocks: dict[str, list] = field(default_factory=dict)

    def labelled(self, kind: str) -> dict[str, dict]:
        """Blocks with one label (variable, output, module) as name -> body."""
        result: dict[str, dict] = {}
        for block in self.blocks.get(kind, []):
            for name, body in block.items():
                result[name.strip('"')] = body
        return result

    def resources(self) -> list[tuple[str, str, dict]]:
        """``(type, name, body)`` of every resource block."""
        found = []
        for block in self.blocks.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    found.append((rtype.strip('"'), name.strip('"'), body))
        return found


def load_module(path: Path) -> Module:
    """Parse every ``*.tf`` file of ``path`` into one Module.

    Raises:
        ValueError: naming the file that does not parse.
    """
    module = Module(path)
    files = sorted(path.glob("*.tf"))
    if not files:
        raise ValueError(f"{path}: no .tf files")
    for tf in files:
        try:
            parsed = hcl2.loads(tf.read_text(), serialization_options=_OPTIONS)
        except Exception as error:  # hcl2 raises lark errors of several types
            raise ValueError(f"{tf}: does not parse: {error}") from error
        for kind, blocks in parsed.items():
            module.blocks.setdefault(kind, []).extend(blocks if isinstance(blocks, list) else [blocks])
    return module


def _walk(value, key: str = ""):
    """Yield ``(attribute name, value)`` for every scalar in a parsed structure."""
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from _walk(child, child_key)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child, key)
    else:
        yield key, value


def _is_literal(value) -> bool:
    return isinstance(value, str) and "${" not in value and value != ""


def unused_variables(module: Module) -> list[str]:
    """Variables declared but never referenced as ``var.<name>`` outside their own block."""
    rest = json.dumps({kind: blocks for kind, blocks in module.blocks.items() if kind != "variable"})
    return sorted(name for name in module.labelled("variable") if not re.search(rf"\bvar\.{name}\b", rest))


def undeclared_variables(module: Module) -> list[str]:
    """``var.<name>`` references without a matching variable block."""
    text = json.dumps(module.blocks)
    used = set(re.findall(r"\bvar\.([A-Za-z_][\w-]*)", text))
    return sorted(used - set(module.labelled("variable")))


def hard_coded_secrets(module: Module) -> list[str]:
    """Literal credentials: secret-named attributes with literal values, or key-shaped strings."""
    problems = []
    for name, body in module.labelled("variable").items():
        if _SECRET_NAME.search(name) and "default" in body:
            problems.append(f"variable {name} looks like a secret and has a default")
        if _SECRET_NAME.search(name) and body.get("sensitive") is not True:
            problems.append(f"variable {name} looks like a secret and is not marked sensitive = true")
    for kind, blocks in module.blocks.items():
        if kind == "variable":
            continue
        for key, value in _walk(blocks):
            if _SECRET_NAME.search(key) and _is_literal(value):
                problems.append(f"{kind}: attribute {key} has a literal value")
            if isinstance(value, str) and _SECRET_VALUE.search(value):
                problems.append(f"{kind}: attribute {key} holds a credential-shaped string")
    return problems


def untagged_resources(module: Module) -> list[str]:
    """Taggable resources without a ``tags`` argument."""
    return sorted(
        f"{rtype}.{name}" for rtype, name, body in module.resources() if rtype in TAGGABLE and "tags" not in body
    )


def missing_required_tags(root: Module) -> list[str]:
    """Required tag keys missing from the root's ``local.tags`` (what the provider and modules get)."""
    tags = None
    for block in root.blocks.get("locals", []):
        tags = block.get("tags", tags)
    if tags is None:
        return list(REQUIRED_TAGS)
    text = json.dumps(tags)
    return [key for key in REQUIRED_TAGS if not re.search(rf"\b{key}\b", text)]


def undocumented(module: Module) -> list[str]:
    """Variables without type or description, outputs without description."""
    problems = []
    for name, body in module.labelled("variable").items():
        for key in ("type", "description"):
            if key not in body:
                problems.append(f"variable {name} has no {key}")
    for name, body in module.labelled("output").items():
        if "description" not in body:
            problems.append(f"output {name} has no description")
    return problems


def module_call_problems(caller: Module) -> list[str]:
    """Calls of local modules that pass unknown arguments or miss required ones."""
    problems = []
    for name, body in caller.labelled("module").items():
        source = str(body.get("source", ""))
        if not source.startswith("./"):
            continue
        callee = load_module(caller.path / source)
        declared = callee.labelled("variable")
        passed = {
            key for key in body if key not in {"source", "version", "providers", "depends_on", "count", "for_each"}
        }
        for unknown in sorted(passed - set(declared)):
            problems.append(f"module {name}: argument {unknown} is not a variable of {source}")
        required = {var for var, spec in declared.items() if "default" not in spec}
        for missing in sorted(required - passed):
            problems.append(f"module {name}: required variable {missing} of {source} is not passed")
    return problems


def check_module(module: Module) -> list[str]:
    """Every per-module check, as readable problem lines prefixed with the module's folder."""
    problems = [f"variable {name} is declared but never used" for name in unused_variables(module)]
    problems += [f"var.{name} is used but not declared" for name in undeclared_variables(module)]
    problems += hard_coded_secrets(module)
    problems += [f"resource {name} has no tags" for name in untagged_resources(module)]
    problems += undocumented(module)
    problems += module_call_problems(module)
    return [f"{module.path}: {problem}" for problem in problems]
