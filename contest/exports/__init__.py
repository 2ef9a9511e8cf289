"""Workbook and CSV builders: data in, .xlsx/.csv out. No web, no database sessions."""
