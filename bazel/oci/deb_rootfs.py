"""Builds a base image's root filesystem layer from .deb files, deterministically (distroless-style)."""

import argparse
import io
import os
import sys
import tarfile

from bazel.oci import ocilib
from bazel.oci.ocilib import Entry

# The usrmerge links base-files provides; packages that still ship files below them are
# rewritten to /usr so a layer never holds both a link and a directory at one path.
MERGED = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}

# Documentation and translations the services never read. Copyright files stay (licences).
DROP_PREFIXES = ("usr/share/man/", "usr/share/info/", "usr/share/lintian/", "usr/share/locale/", "usr/share/bug/")

NONROOT_UID = 65532

# Where the base's Python standard library lives (its .py files get bytecode in the layer).
STDLIB_PREFIX = "usr/lib/python3"


def read_ar(path: str) -> dict[str, bytes]:
    """Returns the members of a .deb (an `ar` archive) by name."""
    with open(path, "rb") as handle:
        data = handle.read()
    if not data.startswith(b"!<arch>\n"):
        raise ValueError(f"{path}: not a .deb (ar) file")
    members, offset = {}, 8
    while offset + 60 <= len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[offset + 60 : offset + 60 + size]
        offset += 60 + size + (size % 2)
    return members


def open_member(members: dict[str, bytes], stem: str) -> tarfile.TarFile:
    """Opens control.tar.* or data.tar.* whatever its compression (gz, xz, zst, none)."""
    for name, blob in members.items():
        if name.startswith(stem):
            return tarfile.open(fileobj=io.BytesIO(blob), mode="r:*")
    raise ValueError(f"no {stem}.* member")


def normalize(name: str) -> str:
    """Strips "./" and applies the usrmerge rewrite."""
    path = name[2:] if name.startswith("./") else name
    path = os.path.normpath(path.lstrip("/")) if path.strip("./") else ""
    head, _, rest = path.partition("/")
    if head in MERGED and rest:
        return MERGED[head] + "/" + rest
    return path


def extract_deb(path: str, entries: dict[str, Entry]) -> tuple[str, str]:
    """Adds a package's files to `entries`; returns (package name, control paragraph)."""
    members = read_ar(path)
    with open_member(members, "control.tar") as control_tar:
        control = control_tar.extractfile("./control").read().decode().strip() + "\n"
        try:
            md5sums = control_tar.extractfile("./md5sums").read()
        except KeyError:
            md5sums = b""
    package = next(line.split(":", 1)[1].strip() for line in control.splitlines() if line.startswith("Package:"))
    with open_member(members, "data.tar") as data_tar:
        for member in data_tar:
            path = normalize(member.name)
            if not path or path.startswith(DROP_PREFIXES):
                continue
            if path.startswith("usr/share/doc/") and not path.endswith("/copyright") and not member.isdir():
                continue
            if member.isdir():
                if path in MERGED:
                    continue
                if path not in entries or entries[path].kind != "symlink":
                    entries[path] = Entry(path, "dir", member.mode)
            elif member.issym():
                entries[path] = Entry(path, "symlink", 0o777, link=member.linkname)
            elif member.islnk():
                entries[path] = Entry(path, "hardlink", member.mode, link=normalize(member.linkname))
            elif member.isreg():
                entries[path] = Entry(path, "file", member.mode, data=data_tar.extractfile(member).read())
    status = f"var/lib/dpkg/status.d/{package}"
    entries[status] = Entry(status, "file", 0o644, data=control.encode())
    if md5sums:
        entries[status + ".md5sums"] = Entry(status + ".md5sums", "file", 0o644, data=md5sums)
    return package, control


def system_files(entries: dict[str, Entry]) -> None:
    """Adds what maintainer scripts would have made: users, the CA bundle, /tmp, home dirs."""
    passwd = (
        "root:x:0:0:root:/root:/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
        f"nonroot:x:{NONROOT_UID}:{NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin\n"
    )
    group = f"root:x:0:\nnogroup:x:65534:\nnonroot:x:{NONROOT_UID}:\n"
    entries["etc/passwd"] = Entry("etc/passwd", "file", 0o644, data=passwd.encode())
    entries["etc/group"] = Entry("etc/group", "file", 0o644, data=group.encode())
    entries["tmp"] = Entry("tmp", "dir", 0o1777)
    for mountpoint in ("dev", "proc", "sys"):  # where a runtime mounts them
        entries[mountpoint] = Entry(mountpoint, "dir", 0o755)
    entries["root"] = Entry("root", "dir", 0o700)
    entries["home/nonroot"] = Entry("home/nonroot", "dir", 0o700, uid=NONROOT_UID, gid=NONROOT_UID)
    # update-ca-certificates concatenates the certificates; do the same, in a fixed order.
    certs = sorted(p for p, e in entries.items() if p.startswith("usr/share/ca-certificates/") and e.kind == "file")
    if certs:
        bundle = b"".join(entries[p].data.rstrip(b"\n") + b"\n" for p in certs)
        path = "etc/ssl/certs/ca-certificates.crt"
        entries[path] = Entry(path, "file", 0o644, data=bundle)


def main(argv: list[str] | None = None) -> int:
    """Extracts the .debs in the given order into one layer tar."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", required=True, help="the layer tar to write")
    parser.add_argument("--packages-list", help="write the installed package names and versions here")
    parser.add_argument("debs", nargs="+")
    args = parser.parse_args(argv)

    entries: dict[str, Entry] = {}
    controls = []
    for deb in args.debs:
        controls.append(extract_deb(deb, entries))
    system_files(entries)
    # Debian compiles the stdlib's bytecode in a maintainer script, which extracting skips: add
    # it here (unchecked-hash, reproducible), or every start of the image compiles it again.
    sources = sorted(p for p, e in entries.items() if p.startswith(STDLIB_PREFIX) and p.endswith(".py") and e.data)
    for entry in filter(None, (ocilib.bytecode_entry(entries[path]) for path in sources)):
        entries[entry.path] = entry
    ocilib.write_tar(entries.values(), args.output)
    if args.packages_list:
        with open(args.packages_list, "w") as handle:
            for _, control in sorted(controls):
                fields = dict(line.split(": ", 1) for line in control.splitlines() if ": " in line)
                handle.write(f"{fields['Package']}\t{fields['Version']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
