"""A PEP 517 build backend for the preld package, standard library only:
builds the wheel (and editable wheel) of the pure-Python package preld/."""

import base64
import hashlib
import io
import os
import zipfile

NAME, VERSION = "preld", "0.1.0"
HERE = os.path.dirname(os.path.abspath(__file__))
DIST = f"{NAME}-{VERSION}.dist-info"
METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: Client of preld's external tracer protocol
Requires-Python: >=3.8
"""
WHEEL = """Wheel-Version: 1.0
Generator: preld build_backend
Root-Is-Purelib: true
Tag: py3-none-any
"""


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _wheel(wheel_directory, files):
    path = os.path.join(wheel_directory, f"{NAME}-{VERSION}-py3-none-any.whl")
    records = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files + [(f"{DIST}/METADATA", METADATA.encode()), (f"{DIST}/WHEEL", WHEEL.encode())]:
            z.writestr(name, data)
            records.append(_record_line(name, data))
        records.append(f"{DIST}/RECORD,,")
        z.writestr(f"{DIST}/RECORD", "\n".join(records) + "\n")
    return os.path.basename(path)


def _package_files():
    out = []
    pkg = os.path.join(HERE, NAME)
    for f in sorted(os.listdir(pkg)):
        if f.endswith(".py"):
            with open(os.path.join(pkg, f), "rb") as fh:
                out.append((f"{NAME}/{f}", fh.read()))
    return out


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, _package_files())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, [(f"{NAME}.pth", (HERE + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    import tarfile

    base = f"{NAME}-{VERSION}"
    path = os.path.join(sdist_directory, base + ".tar.gz")
    with tarfile.open(path, "w:gz") as t:
        for f in ["pyproject.toml", "build_backend.py"]:
            t.add(os.path.join(HERE, f), arcname=f"{base}/{f}")
        t.add(os.path.join(HERE, NAME), arcname=f"{base}/{NAME}", filter=lambda i: None if "__pycache__" in i.name else i)
        data = METADATA.encode()
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return os.path.basename(path)
