#!/usr/bin/env bash
# Regenerates the msgids of locale_thirdparty/vi/LC_MESSAGES/django.po -- our Vietnamese for the
# third-party apps that ship no Vietnamese of their own (django-allauth, django-tables2) -- from the
# versions INSTALLED in the virtualenv, keeping every existing translation.
#
# Usage: scripts/thirdparty_messages.sh          (from anywhere; uses the repo's .venv)
#        PYTHON=/path/to/python THIRDPARTY_PO=/other/django.po scripts/thirdparty_messages.sh
#
# How it works:
#   1. Copies ONLY the parts of the installed packages that our users can see into a temporary
#      directory (site-packages itself is never written to):
#        allauth/account/**/*.py, allauth/mfa/**/*.py (without webauthn), allauth/core/**/*.py,
#        allauth/templates/{account,allauth}/**, allauth/templates/mfa/** (without webauthn),
#        django_tables2/**/*.py and django_tables2/templates/**.
#      Skipped on purpose (not installed or not used by us): socialaccount, idp, headless,
#      usersessions, openid, webauthn (settings: MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]).
#   2. Runs a settings-less `django-admin makemessages -l vi` in that copy (it needs a `locale/`
#      folder there), so templates go through Django's own template-to-Python conversion and the
#      Django gettext keywords are used.
#   3. msgmerge-s the result into the existing catalogue: translations are kept, new msgids come in
#      untranslated, changed msgids come in as `#, fuzzy` (with `#| msgid` showing the previous
#      text), and msgids that disappeared are dropped (msgattrib --no-obsolete).
#
# Afterwards translate the new/fuzzy entries, remove the fuzzy flags, and check:
#   msgfmt --check --statistics -o /dev/null locale_thirdparty/vi/LC_MESSAGES/django.po
# (tests/test_translations.py fails while anything is untranslated or fuzzy.)
# After upgrading django-allauth or django-tables2, run this script again.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
TARGET="${THIRDPARTY_PO:-$REPO/locale_thirdparty/vi/LC_MESSAGES/django.po}"

for cmd in msgmerge msgattrib xgettext; do
  command -v "$cmd" >/dev/null 2>&1 || {
    echo "$cmd is missing: run \`sudo scripts/system-deps.sh\` (apt-get install gettext)" >&2
    exit 1
  }
done
[ -x "$PYTHON" ] || { echo "No Python at $PYTHON: run \`make setup\` first." >&2; exit 1; }

# find_spec, not import: django_tables2 reads settings at import time
SITE="$("$PYTHON" -c 'import importlib.util as u, os; print(os.path.dirname(os.path.dirname(u.find_spec("allauth").origin)))')"
VERSIONS="$("$PYTHON" -c 'import importlib.metadata as m; print("django-allauth " + m.version("django-allauth") + ", django-tables2 " + m.version("django-tables2"))')"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# copy SRC_DIR (relative to site-packages) into the work dir, keeping the relative path;
# extra arguments are find(1) predicates selecting the files.
copy_tree() {
  local src="$1"; shift
  [ -d "$SITE/$src" ] || { echo "not installed: $SITE/$src" >&2; exit 1; }
  (cd "$SITE" && find "$src" -type f \( "$@" \) -not -path '*/__pycache__/*' -print0 \
    | xargs -0 -r cp --parents -t "$WORK")
}

copy_tree allauth/account -name '*.py'
copy_tree allauth/mfa -name '*.py' -not -path 'allauth/mfa/webauthn/*'
copy_tree allauth/core -name '*.py'
copy_tree allauth/templates/account -name '*'
copy_tree allauth/templates/allauth -name '*'
copy_tree allauth/templates/mfa -name '*' -not -path 'allauth/templates/mfa/webauthn/*'
copy_tree django_tables2 -name '*.py'
copy_tree django_tables2/templates -name '*'

# makemessages without a settings module: it configures USE_I18N itself and writes into ./locale.
mkdir -p "$WORK/locale"
(cd "$WORK" && env -u DJANGO_SETTINGS_MODULE "$PYTHON" -m django makemessages -l vi \
  --no-obsolete -v 0)
NEW="$WORK/locale/vi/LC_MESSAGES/django.po"
[ -s "$NEW" ] || { echo "makemessages produced no catalogue" >&2; exit 1; }

mkdir -p "$(dirname "$TARGET")"
if [ -f "$TARGET" ]; then
  # keep translations; new msgids untranslated, changed ones fuzzy with the previous msgid
  msgmerge --quiet --previous -o "$WORK/merged.po" "$TARGET" "$NEW"
  msgattrib --no-obsolete -o "$TARGET" "$WORK/merged.po"
else
  # first run: start from the extracted catalogue with a proper Vietnamese header
  {
    echo "# Vietnamese translation of the third-party apps used by Sổ điểm & Học bạ số"
    echo "# (django-allauth, django-tables2 -- neither ships Vietnamese)."
    echo "# Regenerate the msgids with scripts/thirdparty_messages.sh; translations are kept."
    echo "# This file is distributed under the same licence as the project."
    echo "#"
    sed -n '/^msgid ""$/,$p' "$NEW" | sed -e '1,/^$/{
        s/^"Language: \\n"$/"Language: vi\\n"/
        s/^"Language-Team: LANGUAGE <LL@li.org>\\n"$/"Language-Team: Vietnamese\\n"/
        s/^"Project-Id-Version: PACKAGE VERSION\\n"$/"Project-Id-Version: sodiem-thirdparty\\n"/
        s/^"Last-Translator: FULL NAME <EMAIL@ADDRESS>\\n"$/"Last-Translator: Sổ điểm \& Học bạ số team\\n"/
        s/^"PO-Revision-Date: YEAR-MO-DA HO:MI+ZONE\\n"$/"PO-Revision-Date: '"$(date +'%Y-%m-%d %H:%M%z')"'\\n"/
      }'
  } >"$WORK/first.po"
  msgattrib -o "$TARGET" "$WORK/first.po"
fi

echo "Updated $TARGET from $VERSIONS:"
msgfmt --statistics -o /dev/null "$TARGET" 2>&1 || true
