"""Workbooks and CSV files: banks, leaderboards, winners, statistics and the evidence pack. No web code here;
result exports read the database in chunks and stream rows out (memory does not grow with the row count)."""
