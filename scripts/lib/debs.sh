# Sourced by scripts that need Debian packages. missing_debs prints, space separated, those of
# its arguments dpkg does not report as installed (nothing when all are).
missing_debs() {
  local p st out=()
  for p in "$@"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || out+=("$p")
  done
  echo "${out[*]}"
}
