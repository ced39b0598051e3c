#!/usr/bin/env python3
"""Differential generation: extip-lint's reading of generated manifests against kubectl's.

Generates manifests (Services with externalIPs in block, flow and JSON form, Lists, anchors and
merge keys, several documents, byte order marks, CRLF and CR line ends, UTF-16, tags, quoting,
directives) and mutates them (characters, lines, kinds, versions), then reads each with the real
kubectl (`kubectl annotate --local -f FILE x=y -o json`, which reads a file exactly as
`kubectl apply -f` does, offline) and with extip-lint's reader (`examples/reading.rs`), and
compares what matters for the rules: the objects found, each Service's externalIPs, and whether
the file is an error (EXT900) where kubectl fails.

    scripts/differential.py --minutes 20                # after `cargo build --example reading`
    scripts/differential.py --minutes 1 --seed 7 --workers 2

Differences that are by design are counted by class, never reported (README, "Reading as
kubectl does"):

- rejected:   kubectl reads the object, extip-lint rejects it as the API server would (unknown
              field, wrong type, invalid selector, an API version or kind no API serves);
              `annotate --local` sends nothing to a server, so it never sees those errors.
- after-stop: kubectl stops a file at its first read error; extip-lint reads on and reports the
              objects after it.
- not-object: kubectl fails on a document that is not an object (no `kind`, a bare string);
              extip-lint counts and ignores it, as other YAML in a repository (values files, CI
              workflows) is no manifest.
- template:   extip-lint skips a document holding `{{ }}` as an unrendered template (and, as
              kubectl stops there, reads on after it).
- no-version: a document with a kind that is no Kubernetes kind and no `apiVersion` (a CI
              file's `kind: pipeline`): `kubectl apply` cannot map it, extip-lint takes it for
              no manifest.

Anything else is a disagreement: the case is kept under target/differential/ with both readings
and counted by kind (missed, extra, external-ips, silent, false-error, list-error).
"""

import argparse
import concurrent.futures
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOM = "\ufeff"

# ---------------------------------------------------------------------------------------------
# Generation


def ip(rng):
    return rng.choice(
        [
            f"192.0.2.{rng.randint(1, 254)}",
            f"198.51.100.{rng.randint(1, 254)}",
            f"2001:db8::{rng.randint(1, 0xFFFF):x}",
            f"203.0.113.{rng.randint(1, 254)}",
            "192.0.2.010",
            "::ffff:192.0.2.1",
        ]
    )


def scalar(rng, text):
    """A string written plain, single- or double-quoted."""
    return rng.choice([text, text, f'"{text}"', f"'{text}'"])


def service(rng, name):
    ns = rng.choice([None, None, "shop", "edge"])
    ips = [ip(rng) for _ in range(rng.randint(0, 3))]
    obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, **({"namespace": ns} if ns else {})},
        "spec": {"ports": [{"port": rng.choice([80, 443, 8080])}]},
    }
    if ips or rng.random() < 0.3:
        obj["spec"]["externalIPs"] = ips
    if rng.random() < 0.2:
        obj["spec"]["type"] = "LoadBalancer"
    return obj


def other(rng, name):
    return rng.choice(
        [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}},
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": name},
                "spec": {"podSelector": {"matchLabels": {"app": name}}, "policyTypes": ["Ingress"]},
            },
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": 3}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        ]
    )


def block(value, indent=0, rng=None):
    """A value in block style (flow for small leaves), as lines."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                if isinstance(v, list) and rng and rng.random() < 0.4:
                    lines.append(f"{pad}{k}: {flow(v, rng)}")
                else:
                    lines.append(f"{pad}{k}:")
                    lines.extend(block(v, indent + 2, rng))
            else:
                lines.append(f"{pad}{k}: {flow(v, rng)}")
    elif isinstance(value, list):
        for v in value:
            sub = block(v, indent + 2, rng) if isinstance(v, (dict, list)) and v else [pad + "  " + flow(v, rng)]
            first = sub[0].strip()
            lines.append(f"{pad}- {first}")
            lines.extend(sub[1:])
    else:
        lines.append(pad + flow(value, rng))
    return lines


def flow(value, rng=None):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v, rng)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v, rng) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    return scalar(rng, value) if rng else value


def document(rng, obj):
    style = rng.choice(["block", "block", "block", "flow", "json"])
    if style == "flow":
        return flow(obj, rng) + "\n"
    if style == "json":
        return json.dumps(obj, indent=rng.choice([None, 2])) + "\n"
    return "\n".join(block(obj, 0, rng)) + "\n"


def with_anchors(rng, names):
    """Services sharing externalIPs or a spec through anchors, aliases and merge keys (a List,
    as anchors do not cross documents)."""
    ips = [ip(rng) for _ in range(rng.randint(1, 2))]
    first, second = names
    if rng.random() < 0.5:
        items = f"""- apiVersion: v1
  kind: Service
  metadata: {{name: {first}}}
  spec:
    ports: [{{port: 80}}]
    externalIPs: &ips {flow(ips)}
- apiVersion: v1
  kind: Service
  metadata: {{name: {second}}}
  spec:
    ports: [{{port: 81}}]
    externalIPs: *ips
"""
    else:
        items = f"""- apiVersion: v1
  kind: Service
  metadata: {{name: {first}}}
  spec: &spec
    ports: [{{port: 80}}]
    externalIPs: {flow(ips)}
- apiVersion: v1
  kind: Service
  metadata: {{name: {second}}}
  spec:
    <<: *spec
    ports: [{{port: 443}}]
"""
    return f"apiVersion: v1\nkind: {rng.choice(['List', 'ServiceList'])}\nitems:\n{items}"


def as_list(rng, objs):
    kind = rng.choice(["List", "List", "ServiceList"])
    items = []
    for o in objs:
        o = dict(o)
        if kind == "ServiceList" and o.get("kind") == "Service" and rng.random() < 0.5:
            o.pop("kind")
            o.pop("apiVersion")
        items.append(o)
    wrapper = {"apiVersion": "v1", "kind": kind, "items": items}
    return document(rng, wrapper)


def separator(rng):
    return rng.choice(["---\n", "---\n", "--- # next\n", "...\n---\n", "\n---\n"])


def manifest(rng):
    names = iter(f"o{i}" for i in range(100))
    docs = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.15:
            docs.append(with_anchors(rng, (next(names), next(names))))
        elif r < 0.3:
            docs.append(as_list(rng, [service(rng, next(names)) for _ in range(rng.randint(0, 3))]))
        elif r < 0.8:
            docs.append(document(rng, service(rng, next(names))))
        else:
            docs.append(document(rng, other(rng, next(names))))
    if all(d.lstrip().startswith("{") for d in docs) and rng.random() < 0.5:
        # A JSON (or flow) stream: values one after another, no separators.
        text = "".join(docs)
    else:
        text = ""
        for i, d in enumerate(docs):
            if i or rng.random() < 0.3:
                text += separator(rng)
            if rng.random() < 0.1:
                text += "# a comment\n"
            text += d
    if rng.random() < 0.05:
        text = "%YAML " + rng.choice(["1.1", "1.2"]) + "\n---\n" + text
    return text


ALPHABET = list("\"'{}[],:-#&*!|>%@?`\\ \t\n\r") + [BOM, "a", "0", ".", "\u00e9"]


def mutate(rng, text):
    if not text:
        return text
    op = rng.randrange(14)
    lines = text.split("\n")
    i = rng.randrange(len(text))
    li = rng.randrange(len(lines))
    if op == 0:
        return text[:i] + rng.choice(ALPHABET) + text[i:]
    if op == 1:
        return text[:i] + text[i + 1 :]
    if op == 2:
        return text[:i] + rng.choice(ALPHABET) + text[i + 1 :]
    if op == 3:
        lines.insert(li, lines[li])
    elif op == 4:
        del lines[li]
    elif op == 5 and li + 1 < len(lines):
        lines[li], lines[li + 1] = lines[li + 1], lines[li]
    elif op == 6:
        lines[li] = " " * rng.choice([1, 2]) + lines[li]
    elif op == 7:
        lines[li] = lines[li][rng.choice([1, 2]) :] if lines[li].startswith(" ") else lines[li]
    elif op == 8:
        lines.insert(li, rng.choice(["---", "...", "--- !!map", "----", "# c", BOM + "---"]))
    elif op == 9:
        lines[li] = BOM + lines[li]
    elif op == 10:
        for a, b in [
            ("kind: Service", rng.choice(["kind: service", 'kind: "Service "', "kind: ServiceList", "kind: Servce"])),
            ("apiVersion: v1", rng.choice(["apiVersion: core/v1", "apiVersion: v2", "apiVersion: V1"])),
            ('"kind": "Service"', '"kind": "service"'),
        ]:
            if a in text:
                return text.replace(a, b, 1)
    elif op == 11:
        lines.insert(li, rng.choice(["items: hello", "items: {a: 1}", "items: []", "items: null", "items: [1]"]))
    elif op == 12:
        for a in ["externalIPs: ", "port: ", "name: "]:
            j = text.find(a)
            if j >= 0:
                j += len(a)
                return text[:j] + rng.choice(["!x, ", "!!str ", "!!int ", "&a ", "!x,"]) + text[j:]
    else:
        tail = rng.choice(["this is not json\n", "]\n", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tail}\n", "\n"])
        return text + tail
    return "\n".join(lines)


def encode(rng, text):
    """The file's bytes: line ends, a byte order mark, UTF-16."""
    r = rng.random()
    if r < 0.1:
        text = text.replace("\n", "\r\n")
    elif r < 0.15:
        text = text.replace("\n", "\r")
    if rng.random() < 0.08:
        text = BOM + text
    if rng.random() < 0.03:
        return b"\xff\xfe" + text.encode("utf-16-le")
    return text.encode("utf-8")


def case(rng):
    text = manifest(rng)
    for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 3])):
        text = mutate(rng, text)
    return encode(rng, text)


# ---------------------------------------------------------------------------------------------
# Readings

CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}


def text(v):
    if isinstance(v, str):
        return v
    return json.dumps(v)


def kubectl_reading(kubectl, path):
    p = subprocess.run(
        [kubectl, "annotate", "--local", "-o", "json", "-f", path, "extip-lint-test=x"],
        capture_output=True,
        env={**os.environ, "KUBECONFIG": "/dev/null"},
        timeout=60,
    )
    out = p.stdout.decode("utf-8", "replace")
    objects = []
    dec = json.JSONDecoder()
    i = 0
    while i < len(out):
        while i < len(out) and out[i].isspace():
            i += 1
        if i >= len(out):
            break
        o, i = dec.raw_decode(out, i)
        objects.append(o)
    err = p.stderr.decode("utf-8", "replace")
    return {"code": p.returncode, "objects": objects, "stderr": err}


def identity(o):
    meta = o.get("metadata") if isinstance(o.get("metadata"), dict) else {}
    name = meta.get("name", meta.get("generateName", ""))
    # kubectl reads an `apiVersion` or `kind` that is not a string (null) as none.
    string = lambda v: v if isinstance(v, str) else ""
    return (string(o.get("apiVersion")), string(o.get("kind")), "" if name is None else text(name))


BUILT_IN = {"core": [], "all": []}


def compare(k, t):
    """Disagreements and the design classes met: (list of (kind, detail), Counter of classes)."""
    bad = []
    classes = Counter()
    err = k["stderr"]
    fatal = "error parsing" in err
    list_error = any(
        s in err
        for s in (
            "decodeList.items",
            "into Go value of type map[string]interface",
            "Object 'apiVersion' is missing in 'object has no apiVersion",
            "Object 'Kind' is missing in 'object has no kind field",
        )
    )
    not_object = "Object 'Kind' is missing in '{" in err or "unstructured.detector" in err
    read_errors = [e for e in t["errors"] if e["read"]]
    first_read_error = min((e["start"] for e in read_errors), default=None)
    theirs = {}
    for o in k["objects"]:
        spec = o.get("spec") if isinstance(o.get("spec"), dict) else {}
        ips = spec.get("externalIPs")
        if isinstance(ips, list):
            # The API server decodes a null item of a list of strings as "" (Go's zero value),
            # and so does extip-lint.
            ips = ["" if x is None else x for x in ips]
        theirs.setdefault(identity(o), []).append(ips)
    templates = t.get("templates", 0)
    ours = {}
    for o in t["objects"]:
        api_version, kind, _ns, name = o["id"]
        if fatal and first_read_error is not None and o["start"] >= first_read_error:
            # kubectl stopped at the error; extip-lint reads on.
            classes["after-stop"] += 1
            continue
        ours.setdefault((api_version, kind, name), []).append((o["start"], o["externalIPs"]))
    rejected = {(r[0], r[1], r[3]) for r in t["rejected"]}
    for key, ips in list(theirs.items()):
        if key[0] == "" and key[1] in BUILT_IN["core"]:
            # A core kind without a version: the API server takes it as v1.
            theirs.pop(key)
            key = ("v1", key[1], key[2])
            theirs.setdefault(key, []).extend(ips)
    for key, ips in theirs.items():
        if "{{" in key[2]:
            classes["template"] += 1
            continue
        if key[0] == "" and key[1] not in BUILT_IN["all"]:
            # No version and no Kubernetes kind: `kubectl apply` cannot map it, and extip-lint
            # takes the document for no manifest.
            classes["no-version"] += 1
            continue
        if key in ours:
            if key[1] == "Service":
                want = sorted(json.dumps(x) for x in ips)
                have = sorted(json.dumps(x[1]) for x in ours[key])
                if want != have and not (key in rejected):
                    bad.append(("external-ips", f"{key}: kubectl {want}, extip-lint {have}"))
        elif key in rejected:
            classes["rejected"] += 1
        else:
            bad.append(("missed", f"kubectl applies {key}, extip-lint has no such object"))
    for key, found in ours.items():
        if key in theirs:
            continue
        for start, _ in found:
            if fatal and first_read_error is None and templates:
                # kubectl stopped at a document extip-lint skips as a template, and reads on.
                classes["template"] += 1
            else:
                bad.append(("extra", f"extip-lint has {key} at byte {start}, kubectl does not read it"))
    if fatal and not read_errors:
        if templates:
            classes["template"] += 1
        else:
            bad.append(("silent", "kubectl fails on the file, extip-lint reports no read error"))
    if k["code"] == 0 and not err.strip() and read_errors:
        versionless = [
            o for o in k["objects"] if not isinstance(o.get("apiVersion"), str) or not o["apiVersion"]
        ]
        if versionless and all("no matches for kind" in e["message"] for e in read_errors):
            # `annotate --local` maps nothing; `kubectl apply` fails to map a kind without a
            # version that is none of Kubernetes', as extip-lint says.
            classes["no-version"] += 1
        else:
            bad.append(("false-error", f"kubectl reads the file, extip-lint: {read_errors[0]['message']}"))
    if list_error and not t["errors"]:
        if t["ignored"]:
            # A list without a kind: kubectl fails on its items, extip-lint ignores it as it
            # ignores every document without a kind.
            classes["not-object"] += 1
        else:
            bad.append(("list-error", "kubectl fails on a list, extip-lint reports nothing"))
    if not_object and not fatal:
        classes["not-object"] += 1
    return bad, classes


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--workers", type=int, default=1, help="kubectl processes at a time")
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--kubectl", default=os.path.join(ROOT, "target/tools/bin/kubectl"))
    ap.add_argument("--reader", default=os.path.join(ROOT, "target/debug/examples/reading"))
    ap.add_argument("--keep", default=os.path.join(ROOT, "target/differential"))
    args = ap.parse_args()
    for tool in (args.kubectl, args.reader):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} is missing: run scripts/install-test-tools.sh kubectl and cargo build --example reading")
    BUILT_IN.update(json.loads(subprocess.run([args.reader, "--built-in-kinds"], capture_output=True, check=True).stdout))
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    shutil.rmtree(args.keep, ignore_errors=True)
    os.makedirs(args.keep)
    deadline = time.time() + args.minutes * 60
    cases = 0
    kinds = Counter()
    classes = Counter()
    kubectl_failed = 0
    work = tempfile.mkdtemp(prefix="differential-")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.workers)
    try:
        while time.time() < deadline:
            batch = []
            for n in range(args.batch):
                path = os.path.join(work, f"c{cases + n}.yaml")
                data = case(rng)
                with open(path, "wb") as f:
                    f.write(data)
                batch.append((path, data))
            ours = subprocess.run(
                [args.reader] + [p for p, _ in batch], capture_output=True, timeout=600
            )
            lines = ours.stdout.decode().splitlines()
            if ours.returncode != 0 or len(lines) != len(batch):
                # One case made the reader fail: keep the batch.
                for p, data in batch:
                    shutil.copy(p, args.keep)
                kinds["reader-crash"] += 1
                print(f"reader failed on a batch: {ours.stderr.decode()[-2000:]}", file=sys.stderr)
                cases += len(batch)
                continue
            theirs = list(pool.map(lambda b: kubectl_reading(args.kubectl, b[0]), batch))
            for (path, data), line, k in zip(batch, lines, theirs):
                t = json.loads(line)
                kubectl_failed += k["code"] != 0
                bad, met = compare(k, t)
                classes.update(met)
                for kind, detail in bad:
                    kinds[kind] += 1
                if bad:
                    name = f"{sum(kinds.values()):05d}-{bad[0][0]}"
                    shutil.copy(path, os.path.join(args.keep, name + ".yaml"))
                    with open(os.path.join(args.keep, name + ".txt"), "w") as f:
                        f.write("\n".join(f"{kind}: {d}" for kind, d in bad))
                        f.write(f"\n\n--- kubectl (exit {k['code']}):\n{k['stderr']}\n")
                        f.write(json.dumps(k["objects"], indent=1))
                        f.write("\n--- extip-lint:\n" + json.dumps(t, indent=1) + "\n")
            cases += len(batch)
            for p, _ in batch:
                os.unlink(p)
    finally:
        pool.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    print(f"seed {seed}: {cases} cases in {args.minutes} minutes; kubectl failed on {kubectl_failed}")
    print("design classes met: " + (", ".join(f"{c} {n}" for c, n in sorted(classes.items())) or "none"))
    if kinds:
        print("DISAGREEMENTS: " + ", ".join(f"{c} {n}" for c, n in sorted(kinds.items())) + f" (kept in {args.keep})")
        sys.exit(1)
    print("no disagreement")


if __name__ == "__main__":
    main()
