# gunicorn's settings for every app server (deploy/systemd/tawasul-app@.service passes
# --bind and --control-socket on its command line; WEB_CONCURRENCY sets the workers).
# The metrics helper adds its multiprocess hooks here.
