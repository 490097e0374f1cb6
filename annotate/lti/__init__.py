"""LTI 1.3 Advantage: classes launched from a school's LMS (docs/lms.md)."""
