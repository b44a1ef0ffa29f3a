#!/usr/bin/env bash
# `pnpm release:dry`: what a release would publish, without publishing. Builds the packages
# (`pnpm build`), packs each one as `pnpm publish` would (its dist/, through
# publishConfig.directory) into a temporary directory, and prints each tarball's name, version,
# size and files, then the changesets still waiting for `pnpm version-packages`.
# A real release is `pnpm version-packages`, a commit, then `pnpm build && pnpm changeset publish`.
set -euo pipefail
cd "$(dirname "$0")/.."
# run from a pnpm script, npx would warn about the npm_config_* settings pnpm exports
unset npm_config_verify_deps_before_run npm_config__jsr_registry npm_config_npm_globalconfig
pnpm() { npx -y pnpm@10 "$@"; }
out=$(mktemp -d "${TMPDIR:-/tmp}/effect-twitch-release.XXXXXX")
trap 'rm -rf "$out"' EXIT

pnpm -s build
for pkg in auth testing sql cli; do
  (cd "packages/$pkg" && pnpm -s pack --pack-destination "$out" >/dev/null)
done
echo
echo "would publish (npm, access public):"
for tarball in "$out"/*.tgz; do
  manifest=$(tar -xzOf "$tarball" package/package.json)
  name=$(node -p 'JSON.parse(process.argv[1]).name' "$manifest")
  version=$(node -p 'JSON.parse(process.argv[1]).version' "$manifest")
  files=$(tar -tzf "$tarball" | wc -l)
  echo
  echo "$name@$version  ($(basename "$tarball"): $(du -k "$tarball" | cut -f1) KiB packed, $files files)"
  tar -tvzf "$tarball" | awk '{ printf "  %9s  %s\n", $3, $6 }' | sed 's|  package/|  |'
done
echo
pending=$(find .changeset -name '*.md' -not -name README.md | sort)
if [ -n "$pending" ]; then
  echo "changesets waiting for \`pnpm version-packages\` (they would change the versions above):"
  echo "$pending" | sed 's/^/  /'
else
  echo "no pending changeset: the versions above are the ones in the packages' package.json"
fi
