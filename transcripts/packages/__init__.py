"""Signed transcript packages for the provincial system (docs/package-format.md).

- :mod:`.format`: package format v1 — member paths, the manifest (manifest.xml, valid against
  ``transcripts/schema/goi-hocba-v1.xsd``) and deterministic ZIP members;
- :mod:`.scope`: which transcript versions a full, incremental or single package holds;
- :mod:`.build`: writes a package ZIP from the stored signed files (never re-renders or
  re-signs) and seals the manifest with a detached CMS signature;
- :mod:`.verify`: checks a package offline (``manage.py verify_package``, the public page);
- :mod:`.exports`: the export jobs behind the screens and ``manage.py export_transcripts``;
- :mod:`.upload`: the client of the provincial endpoint (docs/provincial-upload.md);
- :mod:`.receiver`: a receiving server that speaks that contract, for tests and demos.
"""
