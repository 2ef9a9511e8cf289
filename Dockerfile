# The platform without the demo data: migrate, then serve.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CONTEST_HOST=0.0.0.0 \
    CONTEST_PORT=8000 \
    CONTEST_VAR_DIR=/app/var

WORKDIR /app
RUN useradd --create-home --uid 10001 contest
COPY pyproject.toml README.md ./
COPY contest ./contest
COPY templates ./templates
COPY question_banks ./question_banks
# Editable, so the package finds templates/ and question_banks/ beside it in /app.
RUN pip install --no-cache-dir -e . \
    && mkdir -p /app/var && chown contest:contest /app/var

USER contest
EXPOSE 8000
# Set SECRET_KEY and CONTEST_ENV=production (and DATABASE_URL for PostgreSQL) at run time.
CMD ["sh", "-c", "contest migrate && exec contest serve"]
