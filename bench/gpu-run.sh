#!/usr/bin/env bash
# On a lent GPU machine, from the repo root: unpack what bench/gpu-bundle.mjs packed into
# .gpu/ (and the Vulkan loader .debs in .gl/, where carried) and run the check.
# usage: bash bench/gpu-run.sh <output folder> [gpu-check options: --batch n --steps n
#        --archs a,b --no-timings --no-inference]
set -euo pipefail
out=${1:?usage: bash bench/gpu-run.sh <output folder> [options]}
shift
if [ -d .gl ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; fi
python3 -c "
import lzma, shutil
shutil.copyfileobj(lzma.open('.gpu/node.xz'), open('/tmp/node', 'wb'))
shutil.copyfileobj(lzma.open('.gpu/dawn.node.xz'), open('.gpu/node_modules/webgpu/dist/linux-x64/dawn.node', 'wb'))
"
chmod +x /tmp/node
/tmp/node .gpu/b/b/gpu-check.mjs "$out/gpu-check.json" "$@" 2>&1 | grep -v 'Warning: max' | tee "$out/log.txt"
if [ -f .gpu/b/b/results/kernels.json ]; then cp .gpu/b/b/results/kernels.json "$out/"; fi
