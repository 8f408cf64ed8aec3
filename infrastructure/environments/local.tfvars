# Local: everything in an AWS emulator (moto server or LocalStack) at AWS_ENDPOINT_URL.
# speaker_auth comes from .local/auth/speaker-auth.tfvars.json, written by `make token`.
environment        = "local"
aws_region         = "eu-west-1"
create_deployment  = false
tracing            = false
log_retention_days = 1

# No Transcribe in an emulator: the local engine (pocketsphinx, English) recognises ("scripted" replays a timed
# transcript instead: make bench's load runs). Four shards: four talks' audio is read by up to four worker
# invocations, side by side, as on AWS (one shard carried every talk through one worker: docs/LOCAL.md).
audio = {
  transcription_engine = "pocketsphinx"
  stream_on_demand     = false
  stream_shard_count   = 4
}

# No Translate or Polly in an emulator: apertium and espeak-ng (installed by make setup).
translation = {
  translation_engine = "apertium"
  speech_engine      = "espeak"
}

# A rehearsal creates many sessions with the one local speaker token: more than the 10 an hour of the
# remote environments.
session_limits = {
  control_rate_per_second        = 10
  idle_timeout_seconds           = 600
  max_listeners_per_session      = 5000
  max_sessions_per_user_per_hour = 120
}

# The user pool and the site are created in the emulator as in AWS (`make dev` serves the pages itself, with its
# own issuer), but the emulator serves S3 over http://, so the site bucket cannot deny requests without TLS, and
# moto cannot empty a versioned bucket holding delete markers (a destroy after a rebuild of web/dist never ends).
site = {
  require_tls = false
  versioning  = false
}

# The local runtime on a 2-core machine carries fewer talks at once than the account quotas would allow (every
# function's calls go through one moto process): its measured throughput is its capacity (docs/CAPACITY.md,
# "Locally": two talks of 20 listeners in 5 languages at caption p95 <= 1.5 s in every run; three at 1.3-1.8 s).
measured_throughput_talks = 2
