from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = 'django-insecure-7x#k2!q9v@m4p$z8w^r1t&y5u*i0o(p3)a6s_d2f+g8h'

# SECURITY WARNING: don't run with debug turned on in production!
DEBUG = True

ALLOWED_HOSTS = ['*']

INSTALLED_APPS = [
    'django.contrib.admin',
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'django.contrib.messages',
    'django.contrib.staticfiles',
    'releves',
]

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.mysql',
        'NAME': 'observations',
        'USER': 'root',
        'PASSWORD': 'raspberry',
        'HOST': 'localhost',
    }
}

LOGGING = {
    'version': 1,
    'handlers': {
        'file': {
            'level': 'DEBUG',
            'class': 'logging.FileHandler',
            'filename': '/var/log/observations/django.log',
        },
    },
    'root': {'handlers': ['file'], 'level': 'DEBUG'},
}

STATIC_URL = 'static/'
STATIC_ROOT = BASE_DIR / 'static'
