# One image for every service; docker-compose.yml picks each one's command.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=labsite.settings \
    VAR_DIR=/app/var \
    MEDIA_ROOT=/media

# Hangul fonts: font-rendered data sets, and Hangul labels in the plots; gettext
# compiles the Korean and English catalogues.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fontconfig fonts-nanum fonts-unfonts-core fonts-baekmuk gettext \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 lab
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN mkdir -p /app/var /media \
    && python manage.py collectstatic --noinput --verbosity 0 \
    && python manage.py compilemessages --verbosity 0 \
    && rm -f /app/var/secret_key \
    && chown -R lab:lab /app/var /media

USER lab
EXPOSE 8000
CMD ["gunicorn", "labsite.wsgi", "--config", "python:labsite.gunicorn", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
