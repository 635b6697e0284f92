#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check-image-deps.py - the image has every library the module links.

    tests/support/check-image-deps.py DOCKERFILE MODULE

Reads the Dockerfile's last stage (the runtime image): the packages its
apt-get install lines name, and, when it installs the Debian package
built in the build stage (a local libnginx-mod-http-xflow_*.deb), what
that package depends on: debian/control's Depends with ${shlibs:Depends}
from dpkg-shlibdeps on MODULE, as dpkg-buildpackage fills it in.  These
packages, their dependencies and Debian's essential packages are what
the image holds, resolved against this machine's dpkg database (the
build host runs the image's Debian release).

Each library MODULE needs (objdump -p: NEEDED) is looked up with ldd and
dpkg -S; it must come from a package the image holds.  Exit status 0
when every one does, 1 otherwise (each missing library and its package
named), 2 on a usage or lookup error.
"""
import os
import re
import shlex
import subprocess
import sys

OWN_PACKAGE = "libnginx-mod-http-xflow"


def run(*cmd, cwd=None):
    return subprocess.run(cmd, check=True, capture_output=True, text=True,
                          cwd=cwd).stdout


def last_stage(dockerfile):
    """The RUN and COPY instructions of the last FROM, continuations
    joined."""
    text = open(dockerfile, encoding="utf-8").read()
    text = re.sub(r"\\\n", " ", text)
    stage = []
    for line in text.split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word = line.split(None, 1)[0].upper()
        if word == "FROM":
            stage = []
        else:
            stage.append(line)
    return stage


def installed_by(stage):
    """Package names and local .deb paths that apt-get install names."""
    names, debs = [], []
    for line in stage:
        if not line.upper().startswith("RUN "):
            continue
        for cmd in re.split(r"&&|\|\||;|\|", line[4:]):
            words = shlex.split(cmd, comments=False)
            if "apt-get" not in words or "install" not in words:
                continue
            for w in words[words.index("install") + 1:]:
                if w.startswith("-"):
                    continue
                if w.endswith(".deb"):
                    debs.append(w)
                else:
                    names.append(re.sub(r"[=:].*$", "", w))
    return names, debs


def dpkg_db():
    """Installed packages: name -> (essential, depends); virtual -> names."""
    fmt = "${Package}\t${Essential}\t${Provides}\t${Depends}\t" \
          "${Pre-Depends}\t${Status}\n"
    pkgs, provides = {}, {}
    for line in run("dpkg-query", "-W", "-f=" + fmt).splitlines():
        name, ess, prov, dep, pre, status = line.split("\t")
        if not status.endswith(" installed"):
            continue
        pkgs[name] = (ess == "yes", ", ".join(x for x in (pre, dep) if x))
        for p in prov.split(","):
            p = p.strip().split(" ")[0]
            if p:
                provides.setdefault(p, []).append(name)
    return pkgs, provides


def strip_dep(d):
    return re.sub(r"\s*\(.*?\)|:\w+|\s*\[.*?\]", "", d).strip()


def closure(seeds, pkgs, provides):
    """What apt-get installs for seeds: each dependency's first
    alternative this machine has, a virtual one through its provider."""
    have, todo = set(), list(seeds)
    while todo:
        name = todo.pop()
        if name in have:
            continue
        if name not in pkgs:
            if name in provides:
                todo.append(provides[name][0])
            continue
        have.add(name)
        for dep in pkgs[name][1].split(","):
            alts = [strip_dep(a) for a in dep.split("|") if strip_dep(a)]
            for a in alts:
                if a in pkgs or a in provides:
                    todo.append(a)
                    break
    return have


def shlibs_depends(module, root):
    """${shlibs:Depends} of MODULE, as dpkg-shlibdeps gives it."""
    out = run("dpkg-shlibdeps", "-O", "-e" + module, cwd=root)
    m = re.search(r"^shlibs:Depends=(.*)$", out, re.M)
    return [strip_dep(d.split("|")[0]) for d in m.group(1).split(",")] \
        if m else []


def control_depends(root):
    text = open(os.path.join(root, "debian/control"), encoding="utf-8").read()
    stanza = text.split("\nPackage: " + OWN_PACKAGE, 1)[1]
    m = re.search(r"^Depends:(.*(?:\n[ \t].*)*)", stanza, re.M)
    deps = [] if not m else m.group(1).replace("\n", " ").split(",")
    return [strip_dep(d.split("|")[0]) for d in deps
            if d.strip() and "${" not in d]


def needed(module):
    """NEEDED sonames of MODULE -> the installed package of each."""
    sonames = re.findall(r"^\s*NEEDED\s+(\S+)", run("objdump", "-p", module),
                         re.M)
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", run("ldd", module), re.M))
    owners = {}
    for so in sonames:
        path = paths.get(so)
        if not path or path == "not":
            owners[so] = None
            continue
        cands = [path, os.path.realpath(path)]
        for p in list(cands):
            cands.append(p[4:] if p.startswith("/usr/") else "/usr" + p)
        owner = None
        for p in cands:
            try:
                owner = run("dpkg", "-S", p).split(":")[0].split(",")[0]
                break
            except subprocess.CalledProcessError:
                continue
        owners[so] = owner
    return owners


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    dockerfile, module = sys.argv[1], os.path.abspath(sys.argv[2])
    root = os.path.normpath(os.path.join(os.path.dirname(__file__), "../.."))

    names, debs = installed_by(last_stage(dockerfile))
    ours = [d for d in debs if os.path.basename(d).startswith(OWN_PACKAGE)]
    seeds = list(names)
    how = "apt-get install " + " ".join(names + debs)
    if ours:
        derived = shlibs_depends(module, root) + control_depends(root)
        seeds += derived
        print("     the package's Depends, from dpkg-shlibdeps: "
              + " ".join(sorted(set(derived))))

    pkgs, provides = dpkg_db()
    essential = [n for n, (ess, _) in pkgs.items() if ess]
    image = closure(seeds + essential, pkgs, provides)

    fail = 0
    for so, owner in sorted(needed(module).items()):
        if owner is None:
            print(f"FAIL {so}: not found on this machine (ldd)")
            fail = 1
        elif owner not in image:
            print(f"FAIL {so} ({owner}) is not in the image: the runtime "
                  f"stage's {how} does not bring it")
            fail = 1
        else:
            print(f"     {so}: {owner}")
    if not fail:
        print(f"ok   {os.path.basename(dockerfile)}: the runtime stage "
              f"installs every library {os.path.basename(module)} links")
    return fail


if __name__ == "__main__":
    sys.exit(main())
