# xenguest-vars.awk: reads a xenguest image's params.cfg or disk.cfg as data, never as a
# script: NAME="value" lines with the shell's quoting, the rules democd's build host applies
# (src/xenguest/shellvars.ts). Anything else (an expansion, a command, an unquoted ; & |)
# is refused with its line number, and nothing is printed.
#
#   awk -v mode=check -f xenguest-vars.awk FILE         problems only (exit 1 if any)
#   awk -v mode=get -v want=NAME -f xenguest-vars.awk FILE   NAME's value (the last assignment)
#   awk -v mode=export -f xenguest-vars.awk FILE        export NAME='value' lines, safe to eval
# (-v label=NAME names the input in messages; the default is the file's name.)
#
# Names the manager and its hooks rely on (PATH, IFS, guestdir, ...) are refused too: a
# guest's parameters must not change how domain 0 finds its programs.

function fail(msg) {
  printf "%s: line %d: %s\n", label, FNR, msg > "/dev/stderr"
  bad = 1
}

function squote(s) {
  gsub(/'/, "'\\''", s)
  return "'" s "'"
}

function reserved(n) {
  return n ~ /^(PATH|IFS|ENV|BASH_ENV|CDPATH|HOME|SHELL|PS[1-4]|LANG|LANGUAGE|LC_[A-Z_]*|LD_[A-Z_]*|TMPDIR|guestname|guestdir|guestcfgfile|XENGUEST_[A-Z_]*)$/
}

BEGIN {
  expansion = "uses a shell expansion ($ or `), which a data file must not"
  starts = "[A-Za-z_{(0-9@*#?$!-]"
}

FNR == 1 && label == "" { label = FILENAME }

{
  t = $0
  sub(/^[ \t]+/, "", t)
  if (t == "" || substr(t, 1, 1) == "#") next
  if (match(t, /^export[ \t]+/)) t = substr(t, RLENGTH + 1)
  if (!match(t, /^[A-Za-z_][A-Za-z0-9_]*=/)) { fail("not a shell variable assignment (NAME=\"value\")"); next }
  name = substr(t, 1, RLENGTH - 1)
  rest = substr(t, RLENGTH + 1)
  if (reserved(name)) { fail(name ": a name the manager and the hooks rely on, not a guest parameter"); next }
  value = ""
  err = ""
  i = 1
  n = length(rest)
  while (i <= n) {
    c = substr(rest, i, 1)
    if (c == " " || c == "\t") break
    if (c == "'") {
      j = index(substr(rest, i + 1), "'")
      if (!j) { err = "unterminated single quote"; break }
      value = value substr(rest, i + 1, j - 1)
      i += j + 1
      continue
    }
    if (c == "\"") {
      i++
      closed = 0
      while (i <= n) {
        d = substr(rest, i, 1)
        if (d == "\"") { i++; closed = 1; break }
        if (d == "\\") {
          if (i == n) break
          e = substr(rest, i + 1, 1)
          value = value (index("$`\"\\", e) ? e : "\\" e)
          i += 2
          continue
        }
        if (d == "`" || (d == "$" && i < n && substr(rest, i + 1, 1) ~ starts)) { err = expansion; break }
        value = value d
        i++
      }
      if (err != "") break
      if (!closed) { err = "unterminated double quote"; break }
      continue
    }
    if (c == "\\") {
      if (i == n) { err = "a backslash at the end of the line (continued lines are not supported)"; break }
      value = value substr(rest, i + 1, 1)
      i += 2
      continue
    }
    if (c == "$" || c == "`") {
      if (c == "$" && (i == n || substr(rest, i + 1, 1) !~ starts)) { value = value c; i++; continue }
      err = expansion
      break
    }
    if (index(";&|<>()", c)) { err = "unquoted \"" c "\" (quote the value)"; break }
    value = value c
    i++
  }
  if (err != "") { fail(name ": " err); next }
  after = substr(rest, i)
  sub(/^[ \t]+/, "", after)
  if (after != "" && substr(after, 1, 1) != "#") { fail(name ": unexpected text after the value: " after); next }
  if (!(name in seen)) order[++count] = name
  seen[name] = 1
  values[name] = value
}

END {
  if (bad) exit 1
  if (mode == "get") { if (want in values) print values[want]; exit 0 }
  if (mode == "export") for (k = 1; k <= count; k++) print "export " order[k] "=" squote(values[order[k]])
}
