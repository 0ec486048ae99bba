#!/usr/bin/env bash
# rule_ids_check.sh: every rule id the code cites must be indexed in docs/hpa-rules.md.
#
# Usage: rule_ids_check.sh [SOURCE_DIR] [--list]
#   SOURCE_DIR  the repository root (default: two levels above this script).
#   --list      print every citation found (id, file:line) and exit 0.
# Exit status: 0 when every cited id has a line in docs/hpa-rules.md; 1 when
# some do not (they are listed with where they are cited), or when the index
# lists an id twice; 2 on a usage error.
#
# Where citations are looked for (controller/ k8sclient/ sim/ tests/ bench/,
# this directory excluded):
#   - C++ (.h .cc .cpp .hpp): comments and string literals only (test names,
#     table-row names and SECTION names are string literals). Code is skipped,
#     so identifiers such as a test helper `T0()` or `B64(...)` never count.
#   - YAML, shell, CMake, Python: `#` comments (a scenario's "# Rules: ..."
#     header), plus the value of YAML `description:` keys.
#   - Markdown: the whole text.
#
# What counts as a citation (the shapes hpa-semantics.md gives its rules):
#   1. A rule id: RQ<n>, or one of R Q S P C T X L B Z H W D M E followed by
#      1-2 digits and an optional sub-letter a-e (P4b, C5e, R6d, X4a). It
#      must stand alone: not glued to a letter, digit, `_` or `.` on the left
#      (so `LS0t`, `0xB12`, `v1.R2` are not ids) nor to a letter, digit or `_`
#      on the right (`B64encode`, `E1x`). Ranges such as `W3-W5` cite both ends.
#   2. A whole section after a marker word: `section 7`, `sections 6, 8 and 9`,
#      `hpa-semantics.md 11 and 16.1-16.3`, `§ 12`. Every number of the list
#      counts (N or N.M).
#   3. A subsection number N.M on its own (12.3, 16.11): 1-2 digits, a dot,
#      1-2 digits, not part of a longer number (10.96.0.1, 16.384, 1.37.0,
#      v1.33 are not), minor part not starting with 0 (15.0, 12.05 are plain
#      numbers), and not in arithmetic: not after `= * / + - < > x ~` or an
#      opening parenthesis that follows a word character (`ceil(13.5)`,
#      `int32(16.2)`), not before `* / + = % x` (`1.5*2`), not followed by a
#      unit letter or by a dot and more text (`"10.1." + ...`). The spec's
#      sections are 0-16, so a major part of 20 or more is a number (62.5).
#      With a one-digit major (0.9, 1.5 are everywhere as numbers), and in
#      Markdown (tables of measurements), only the parenthesised form `(1.7)`
#      or form 2 counts.
# Restricting ids to these shapes and contexts keeps base64 text, IP
# addresses, version strings and numeric literals out. When a real number is
# still taken for a section, write it so the rule above excludes it (e.g.
# `= 12.5`) rather than adding it to the index.
#
# The index: in docs/hpa-rules.md, the first cell of every table row
# (`| P4b | ... |`) and every `##`/`###` heading that starts with a section
# number (`## 6. Pod classification`, `### 12.3 Events`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root=""
list=0
for arg in "$@"; do
  case "$arg" in
    --list) list=1 ;;
    -*) echo "usage: $0 [SOURCE_DIR] [--list]" >&2; exit 2 ;;
    *) root="$arg" ;;
  esac
done
[ -n "$root" ] || root="$(cd "$here/../.." && pwd)"
index="$root/docs/hpa-rules.md"
if [ ! -f "$index" ]; then
  echo "rule_ids_check: $index not found" >&2
  exit 1
fi

cd "$root"
dirs=()
for d in controller k8sclient sim tests bench; do [ -d "$d" ] && dirs+=("$d"); done
if [ ${#dirs[@]} -eq 0 ]; then
  echo "rule_ids_check: no source directories under $root" >&2
  exit 2
fi

find "${dirs[@]}" -path tests/docs -prune -o -type f -print | LC_ALL=C sort |
  LIST="$list" INDEX="$index" perl -e '
use strict;
use warnings;

my $ID = qr/(?<![A-Za-z0-9_.])((?:RQ|[RQSPCTXLBZHWDME])[0-9]{1,2}[a-e]?)(?![A-Za-z0-9_])/;
my $NUM = qr/[0-9]{1,2}(?:\.[0-9]{1,2})?/;
my $MARKER = qr/(?:\bsections?|\x{a7}|\bhpa-semantics(?:\.md)?)[ \t]+($NUM(?:[ \t]*(?:,|-|and|or)[ \t]*$NUM)*)/i;

my %cited;   # id -> [ "file:line", ... ]
sub cite {
  my ($id, $where) = @_;
  push @{ $cited{$id} }, $where;
}

# Citations in one piece of text starting at line $line of $file.
sub scan {
  my ($text, $file, $line, $prose_only) = @_;
  $prose_only //= 0;
  my @lines = split /\n/, $text, -1;
  for my $i (0 .. $#lines) {
    my $l = $lines[$i];
    my $where = "$file:" . ($line + $i);
    while ($l =~ /$ID/g) { cite($1, $where); }
    my %marked;
    while ($l =~ /$MARKER/g) {
      my $nums = $1;
      while ($nums =~ /($NUM)/g) { cite($1, $where); $marked{$1} = 1; }
    }
    while ($l =~ /(?<![0-9.])([0-9]{1,2})\.([0-9]{1,2})(?![0-9]|\.\S)/g) {
      my ($major, $minor) = ($1, $2);
      my $tok = "$major.$minor";
      next if $marked{$tok};
      next if $minor =~ /^0/ || $major >= 20;
      my $before = substr($l, 0, $-[0]);
      my $after = substr($l, $+[0]);
      next if $before =~ /[A-Za-z_]$/;                 # v1.33, x1.5
      next if $before =~ /[=*\/+\-<>x~]\s*$/;          # = 12.5, 4.5 / 11.8
      next if $before =~ /\w\($/;                      # ceil(13.5), int32(16.2)
      next if $after =~ /^\s*[*\/+=%x]/;               # 1.5*2, 12.5 x
      next if $after =~ /^[A-Za-z]/;                   # 1.5s, 2.5Gi
      if ($major < 10 || $prose_only) {
        next unless $before =~ /\($/ && $after =~ /^\)/;  # only "(1.7)"
      }
      cite($tok, $where);
    }
  }
}

sub line_of { my ($s, $pos) = @_; return 1 + (substr($s, 0, $pos) =~ tr/\n//); }

sub scan_cpp {
  my ($src, $file) = @_;
  while ($src =~ m{
      \G(?:
        (//[^\n]*)
      | (/\*.*?\*/)
      | R"([^(\s"\\]{0,16})\((.*?)\)\3"
      | ("(?:[^"\\\n]|\\.)*")
      | (\x27(?:[^\x27\\\n]|\\.)*\x27)
      | [^/"\x27R]+
      | .
      )}gsx) {
    my $start = $-[0];
    if (defined $1) { scan($1, $file, line_of($src, $start)); }
    elsif (defined $2) { scan($2, $file, line_of($src, $start)); }
    elsif (defined $4) { scan($4, $file, line_of($src, $start)); }
    elsif (defined $5) { scan($5, $file, line_of($src, $start)); }
  }
}

sub scan_hash_comments {
  my ($src, $file, $yaml) = @_;
  my $n = 0;
  for my $l (split /\n/, $src, -1) {
    $n++;
    scan($1, $file, $n) if $l =~ /(?:^|\s)#(.*)$/;
    scan($1, $file, $n) if $yaml && $l =~ /^\s*-?\s*description:\s*(.*)$/;
  }
}

my %indexed;
my %index_line;
my @dups;
open(my $ix, "<", $ENV{INDEX}) or die "cannot read $ENV{INDEX}: $!\n";
while (my $l = <$ix>) {
  my $id;
  if ($l =~ /^\|\s*`?((?:RQ|[A-Z])[0-9]{1,2}[a-e]?|[0-9]{1,2}\.[0-9]{1,2})`?\s*\|/) { $id = $1; }
  elsif ($l =~ /^#{2,3}\s+([0-9]{1,2}(?:\.[0-9]{1,2})?)[.\s]/) { $id = $1; }
  next unless defined $id;
  push @dups, "$id (lines $index_line{$id} and $.)" if exists $index_line{$id};
  $indexed{$id} = 1;
  $index_line{$id} //= $.;
}
close $ix;

my $files = 0;
while (my $file = <STDIN>) {
  chomp $file;
  my $kind;
  if ($file =~ /\.(?:h|hh|hpp|cc|cpp|cxx)$/) { $kind = "cpp"; }
  elsif ($file =~ /\.(?:ya?ml)$/) { $kind = "yaml"; }
  elsif ($file =~ /(?:\.sh|\.cmake|\.py|(?:^|\/)CMakeLists\.txt)$/) { $kind = "hash"; }
  elsif ($file =~ /\.md$/) { $kind = "md"; }
  else { next; }
  open(my $fh, "<:raw", $file) or die "cannot read $file: $!\n";
  local $/;
  my $src = <$fh>;
  close $fh;
  $files++;
  if ($kind eq "cpp") { scan_cpp($src, $file); }
  elsif ($kind eq "yaml") { scan_hash_comments($src, $file, 1); }
  elsif ($kind eq "hash") { scan_hash_comments($src, $file, 0); }
  else { scan($src, $file, 1, 1); }
}

sub by_id {
  my ($x, $y) = @_;
  my ($xa, $xn, $xs) = $x =~ /^([A-Z]*)([0-9.]*)(.*)$/;
  my ($ya, $yn, $ys) = $y =~ /^([A-Z]*)([0-9.]*)(.*)$/;
  my @xp = split /\./, $xn; my @yp = split /\./, $yn;
  return ($xa cmp $ya) || (($xp[0] // 0) <=> ($yp[0] // 0)) || (($xp[1] // -1) <=> ($yp[1] // -1)) || ($xs cmp $ys);
}

if ($ENV{LIST}) {
  for my $id (sort { by_id($a, $b) } keys %cited) {
    my @w = @{ $cited{$id} };
    printf "%-6s %s%s %4d  %s\n", $id, ($indexed{$id} ? " " : "!"), "", scalar(@w), join(" ", @w[0 .. ($#w < 2 ? $#w : 2)]);
  }
  exit 0;
}

my @missing = grep { !$indexed{$_} } sort { by_id($a, $b) } keys %cited;
my $bad = 0;
if (@dups) {
  print "docs/hpa-rules.md lists these ids more than once (one line per id):\n";
  print "  $_\n" for @dups;
  $bad = 1;
}
if (@missing) {
  print "rule ids cited in the code but missing from docs/hpa-rules.md:\n";
  for my $id (@missing) {
    my @w = @{ $cited{$id} };
    my $more = @w > 3 ? sprintf(" (+%d more)", @w - 3) : "";
    print "  $id: ", join(", ", @w[0 .. ($#w < 2 ? $#w : 2)]), "$more\n";
  }
  print "Add a line for each to docs/hpa-rules.md (id | meaning | upstream), or fix the citation.\n";
  $bad = 1;
}
exit 1 if $bad;
printf "rule_ids_check: %d distinct ids cited in %d files, all indexed in docs/hpa-rules.md\n", scalar(keys %cited), $files;
exit 0;
'
