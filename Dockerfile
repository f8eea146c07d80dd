# Handoff: the lead-qualification daemon. Configured only by environment
# variables (see README) and a rules file mounted at /etc/handoff/scoring.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed numeric id, so Kubernetes' runAsNonRoot can verify the image's USER.
RUN groupadd --system --gid 10001 handoff \
 && useradd --system --uid 10001 --gid handoff --no-log-init --no-create-home --home-dir /var/lib/handoff handoff \
 && mkdir -p /var/lib/handoff \
 && chown handoff:handoff /var/lib/handoff

WORKDIR /opt/handoff
COPY pyproject.toml README.md ./
COPY connector ./connector
RUN pip install --no-cache-dir .

# The default rules; mount your own file over it.
COPY config/scoring.yaml /etc/handoff/scoring.yaml

ENV HANDOFF_STATE_URL=sqlite:////var/lib/handoff/state.sqlite \
    HANDOFF_RULES=/etc/handoff/scoring.yaml \
    HANDOFF_REPORT_DIR=/var/lib/handoff/reports \
    HANDOFF_HTTP_PORT=8080

VOLUME ["/var/lib/handoff"]
WORKDIR /var/lib/handoff
USER 10001:10001
EXPOSE 8080

# slim images have no curl; python's urllib fails (exit 1) on anything but a 2xx
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HANDOFF_HTTP_PORT', '8080'), timeout=4)"]

ENTRYPOINT ["handoff"]
CMD ["run"]
