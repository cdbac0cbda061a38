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

# The Debian archives this machine's apt sources name, so that a machine behind a local mirror
# works unchanged: nothing in the repository names a package host. Both formats are read: the
# one-line one (/etc/apt/sources.list, sources.list.d/*.list) and deb822 (*.sources, honouring
# Enabled: no). LVH_DEBIAN_MIRROR and LVH_DEBIAN_SECURITY_MIRROR override what is found
# (LVH_APT_ETC reads another /etc/apt, for tests).
#
# apt_source_entries prints "URI SUITE" for every enabled deb/deb-src entry, one per suite.
apt_source_entries() {
  local f etc=${LVH_APT_ETC:-/etc/apt}
  for f in "$etc/sources.list" "$etc"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" || $1 == "deb-src" {
           i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
           print $i, $(i + 1) }' "$f"
  done
  for f in "$etc"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush() { if (types ~ /deb/ && enabled != "no") { n = split(uris, u, " "); m = split(suites, s, " ");
                              for (a = 1; a <= n; a++) for (b = 1; b <= m; b++) print u[a], s[b] }
                            types = uris = suites = ""; enabled = "yes" }
         BEGIN { enabled = "yes" }
         /^[ \t]*$/ { flush(); next }
         /^#/ { next }
         tolower($1) == "types:" { $1 = ""; types = $0 }
         tolower($1) == "uris:" { $1 = ""; uris = $0 }
         tolower($1) == "suites:" { $1 = ""; suites = $0 }
         tolower($1) == "enabled:" { enabled = tolower($2) }
         END { flush() }' "$f"
  done
}

debian_codename() { (. /etc/os-release && echo "${VERSION_CODENAME:-}"); }

# debian_archive VARIABLE SUITE…: the first archive of the machine's sources serving one of the
# SUITEs, unless VARIABLE names one.
debian_archive() {
  local var=$1 uri
  shift
  if [ -n "${!var:-}" ]; then echo "${!var%/}"; return 0; fi
  uri=$(apt_source_entries | awk -v want=" $* " 'index(want, " " $2 " ") { print $1; exit }')
  [ -n "$uri" ] || { echo "no apt source for Debian '$1' on this machine (set $var to its archive)" >&2; return 1; }
  echo "${uri%/}"
}

# debian_mirror: the archive serving the machine's own suite (e.g. http://…/debian).
debian_mirror() { local c; c=$(debian_codename); debian_archive LVH_DEBIAN_MIRROR "$c" "$c-updates"; }

# debian_security_mirror: the archive serving the machine's security suite.
debian_security_mirror() { local c; c=$(debian_codename); debian_archive LVH_DEBIAN_SECURITY_MIRROR "$c-security" "$c/updates"; }
