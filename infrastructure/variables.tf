variable "project" {
  description = "Project name; the first part of every resource name."
  type        = string
  default     = "speech-broadcast"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.project))
    error_message = "project must be 2-31 lower-case letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Deployment environment."
  type        = string

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be local, dev, staging or prod."
  }
}

variable "aws_region" {
  description = "AWS region to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-\\d$", var.aws_region))
    error_message = "aws_region must be a region name such as eu-west-1."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of every function and the layer; the build targets the same version."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.(1[2-9]|[2-9][0-9])$", var.lambda_runtime))
    error_message = "lambda_runtime must be python3.12 or newer."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of every function and the layer; the build targets the same."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64."
  }
}

variable "artifacts_dir" {
  description = "Folder holding the built zips and manifest.json; null means ../dist from this folder."
  type        = string
  default     = null
}

variable "stage_name" {
  description = "WebSocket API stage name; defaults to the environment."
  type        = string
  default     = null
}

variable "speaker_auth" {
  description = "How the $connect authorizer verifies speaker JWTs when they come from another issuer than the identity module's user pool (the local environment's own): issuer, audience (aud or Cognito client_id), and the JWKS by URL or inline JSON. null (the default): the user pool's issuer, app client and JWKS URL."
  type = object({
    issuer    = string
    audience  = string
    jwks_url  = optional(string)
    jwks_json = optional(string)
    # Being signed in is not enough: the token's cognito:groups must hold speaker_group, or an access token's
    # scope must hold speaker_scope.
    speaker_group = optional(string, "speakers")
    speaker_scope = optional(string, "broadcast/speak")
  })
  default = null

  validation {
    condition     = var.speaker_auth == null ? true : (var.speaker_auth.jwks_url == null) != (var.speaker_auth.jwks_json == null)
    error_message = "Set exactly one of speaker_auth.jwks_url and speaker_auth.jwks_json."
  }

  validation {
    condition     = var.speaker_auth == null ? true : var.speaker_auth.jwks_url == null || startswith(coalesce(var.speaker_auth.jwks_url, "x"), "https://")
    error_message = "speaker_auth.jwks_url must be an https:// URL."
  }
}

variable "sign_in" {
  description = "The speakers' Cognito user pool (modules/identity): hosted UI domain prefix (null: <project>-<environment>; unique per region across all accounts), callback URLs besides the site's speaker page (e.g. http://localhost:5173/speaker.html while developing the page), the group allowed to speak, and MFA (OFF, OPTIONAL, ON)."
  type = object({
    domain_prefix       = optional(string)
    extra_callback_urls = optional(list(string), [])
    speaker_group       = optional(string, "speakers")
    mfa                 = optional(string, "OPTIONAL")
  })
  default = {}
}

variable "site" {
  description = "The speaker and listener pages on S3 behind CloudFront (modules/static_site): whether to deploy them, the CloudFront price class, whether the bucket refuses requests without TLS and keeps old versions of its files (only the local emulator sets these two false)."
  type = object({
    enabled     = optional(bool, true)
    price_class = optional(string, "PriceClass_100")
    require_tls = optional(bool, true)
    versioning  = optional(bool, true)
  })
  default = {}
}

variable "site_dir" {
  description = "Folder of the built pages (make web writes web/dist); null means ../web/dist from this folder."
  type        = string
  default     = null
}

variable "create_deployment" {
  description = "Create the API deployment. Only the local environment sets false: moto has no API Gateway v2 CreateDeployment."
  type        = bool
  default     = true
}

variable "throttling" {
  description = "WebSocket stage throttling for every route."
  type = object({
    burst_limit = number
    rate_limit  = number
  })
  default = { burst_limit = 500, rate_limit = 1000 }
}

variable "route_throttling" {
  description = "Throttling of single WebSocket routes under the stage-wide limit (route key => limits): floods of joins, sessions or unknown actions cannot use up what audio and control messages need."
  type = map(object({
    burst_limit = number
    rate_limit  = number
  }))
  default = {
    "$connect"    = { burst_limit = 1000, rate_limit = 500 } # API Gateway's own new-connection limit is 500/s
    "$default"    = { burst_limit = 50, rate_limit = 20 }    # unknown actions: only ever an error
    createSession = { burst_limit = 20, rate_limit = 10 }
    joinSession   = { burst_limit = 1000, rate_limit = 500 } # a venue's audience joins within a minute
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) functions that no stage throttle bounds, by function key: the Kinesis worker (one per shard), the translation function (asynchronous invokes), the schedules. The account must keep 100 unreserved."
  type        = map(number)
  default = {
    transcription_worker    = 20
    translate_segment       = 100
    publish_periodic_status = 1
    sweep_idle_connections  = 1
  }

  validation {
    condition     = alltrue([for n in values(var.reserved_concurrency) : n >= 1])
    error_message = "Reserved concurrency must be at least 1 (0 would stop the function)."
  }
}

variable "session_limits" {
  description = "Limits the functions enforce: control messages per connection per second, idle timeout, listeners per session, how long a session waits for its speaker to reconnect (0: it ends at once), sessions one speaker (token sub) may create per hour, and broadcastStateChanged broadcasts per session per second to its listeners (changes in between are coalesced into one trailing broadcast of the latest state)."
  type = object({
    control_rate_per_second        = number
    idle_timeout_seconds           = number
    max_listeners_per_session      = number
    speaker_grace_seconds          = optional(number, 60)
    max_sessions_per_user_per_hour = optional(number, 10)
    control_broadcasts_per_second  = optional(number, 2)
  })
  default = {
    control_rate_per_second   = 10
    idle_timeout_seconds      = 600
    max_listeners_per_session = 5000
  }

  validation {
    condition     = var.session_limits.control_rate_per_second >= 1 && var.session_limits.idle_timeout_seconds >= 60 && var.session_limits.max_listeners_per_session >= 1 && var.session_limits.speaker_grace_seconds >= 0 && var.session_limits.speaker_grace_seconds <= 3600 && var.session_limits.max_sessions_per_user_per_hour >= 1
    error_message = "Rates, listener and session limits must be at least 1, the idle timeout at least 60 seconds, and the speaker grace period 0 to 3600 seconds."
  }

  validation {
    condition     = var.session_limits.control_broadcasts_per_second > 0 && var.session_limits.control_broadcasts_per_second <= 10
    error_message = "session_limits.control_broadcasts_per_second must be above 0 and at most 10 (the control messages a speaker may send per second)."
  }
}

variable "log_retention_days" {
  description = "Retention of every function's and the API's log group."
  type        = number
  default     = 30
}

variable "log_level" {
  description = "Powertools log level of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "tracing" {
  description = "Active X-Ray tracing on every function."
  type        = bool
  default     = true
}

variable "point_in_time_recovery" {
  description = "Point-in-time recovery on every table."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Deletion protection on every table and on the user pool."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

variable "audio" {
  description = "Audio transcription: the recogniser, limits and the audio stream's capacity: on demand (Kinesis adds shards as the traffic grows), or provisioned with stream_shard_count shards. Each shard is read by one transcription worker invocation at a time, which recognises every talk whose session id hashes to it, so the shards bound how many workers recognise talks in parallel (docs/ARCHITECTURE.md, \"Many talks at once\")."
  type = object({
    transcription_engine    = optional(string, "transcribe")
    rate_per_second         = optional(number, 60)
    silence_timeout_seconds = optional(number, 10)
    stream_on_demand        = optional(bool, true)
    stream_shard_count      = optional(number, 1)
  })
  default = {}

  validation {
    condition     = contains(["transcribe", "pocketsphinx", "scripted"], var.audio.transcription_engine)
    error_message = "audio.transcription_engine must be transcribe (AWS), pocketsphinx (local runs) or scripted (local load runs: a timed transcript replayed)."
  }
  validation {
    condition     = var.audio.stream_shard_count >= 1 && floor(var.audio.stream_shard_count) == var.audio.stream_shard_count
    error_message = "audio.stream_shard_count must be a whole number, at least 1."
  }
  validation {
    condition     = var.audio.rate_per_second >= 1 && var.audio.silence_timeout_seconds >= 1
    error_message = "audio.rate_per_second and audio.silence_timeout_seconds must be at least 1."
  }
}

variable "transcription_worker" {
  description = "The transcription worker: its Lambda timeout (how long one invocation owns its shard; Lambda allows 900 s) how many records its event source mapping delivers at most per invocation, and how far its reader may stay behind the audio stream's tip (3 minutes running) before the reader-lag alarm fires. The worker stops reading a third of its timeout (at most 30 s, at least 10 s) before it ends, to close its streams. Tests set a short timeout to cross many invocations in one talk."
  type = object({
    timeout_seconds        = optional(number, 900)
    batch_size             = optional(number, 500)
    read_lag_alarm_seconds = optional(number, 10)
  })
  default = {}

  validation {
    condition     = var.transcription_worker.timeout_seconds >= 20 && var.transcription_worker.timeout_seconds <= 900
    error_message = "transcription_worker.timeout_seconds must be between 20 (the worker keeps 10 s to close its streams) and 900 (Lambda's limit)."
  }
  validation {
    condition     = var.transcription_worker.batch_size >= 1 && var.transcription_worker.batch_size <= 10000
    error_message = "transcription_worker.batch_size must be between 1 and 10000."
  }
  validation {
    condition     = var.transcription_worker.read_lag_alarm_seconds >= 1
    error_message = "transcription_worker.read_lag_alarm_seconds must be at least 1."
  }
}

variable "alarm_actions" {
  description = "Further SNS topic ARNs that every alarm notifies, besides the environment's own alarm topic."
  type        = list(string)
  default     = []
}

variable "alarm_subscriptions" {
  description = "Who hears the alarms: subscriptions to the environment's alarm topic, e.g. [{ protocol = \"email\", endpoint = \"oncall@example.com\" }]."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "translation" {
  description = "Translation pipeline engines (Amazon Translate and Polly in AWS; apertium and espeak-ng locally) and Polly voices per language."
  type = object({
    translation_engine = optional(string, "translate")
    speech_engine      = optional(string, "polly")
    polly_voices       = optional(map(string), {})
    prefer_neural      = optional(bool, true)
    # The Amazon Translate custom terminologies a session may name; any other name is refused.
    terminologies = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = alltrue([for name in var.translation.terminologies : can(regex("^[A-Za-z0-9_-]{1,256}$", name))])
    error_message = "translation.terminologies are Amazon Translate terminology names: letters, digits, '-' and '_'."
  }

  validation {
    condition     = contains(["translate", "apertium"], var.translation.translation_engine) && contains(["polly", "espeak"], var.translation.speech_engine)
    error_message = "translation.translation_engine must be translate or apertium, speech_engine polly or espeak."
  }
}

variable "transcript_retention_days" {
  description = "How long every final of a session is kept per language (the transcripts table's TTL): late listeners read the talk so far and the speaker downloads the whole transcript within it."
  type        = number
  default     = 7

  validation {
    condition     = var.transcript_retention_days >= 1 && var.transcript_retention_days <= 365 && floor(var.transcript_retention_days) == var.transcript_retention_days
    error_message = "transcript_retention_days must be a whole number of days from 1 to 365."
  }
}

variable "account_quotas" {
  description = "The account's quotas (per account and region; Service Quotas shows yours) that bound how many talks at once the deployment carries (docs/CAPACITY.md). Defaults are AWS's: Amazon Polly SynthesizeSpeech 8 transactions per second with neural voices (burst 10) and 80 with standard voices (burst 100), https://docs.aws.amazon.com/polly/latest/dg/limits.html; Amazon Transcribe 25 concurrent HTTP/2 streams for streaming transcription, https://docs.aws.amazon.com/transcribe/latest/dg/limits-guidelines.html and https://docs.aws.amazon.com/general/latest/gr/transcribe.html; AWS Lambda 1,000 concurrent executions, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html; API Gateway 10,000 requests per second across the account's APIs, https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html. Amazon Translate publishes no TranslateText rate quota (https://docs.aws.amazon.com/translate/latest/dg/what-is-limits.html: it scales with traffic), so it has none here. Raise a value here after Service Quotas granted it."
  type = object({
    polly_neural_tps                = optional(number, 8)
    polly_standard_tps              = optional(number, 80)
    transcribe_concurrent_streams   = optional(number, 25)
    lambda_concurrent_executions    = optional(number, 1000)
    api_gateway_requests_per_second = optional(number, 10000)
  })
  default = {}

  validation {
    condition     = alltrue([for value in values(var.account_quotas) : value > 0])
    error_message = "Every account quota must be above 0."
  }
  validation {
    condition     = floor(var.account_quotas.transcribe_concurrent_streams) == var.account_quotas.transcribe_concurrent_streams && floor(var.account_quotas.lambda_concurrent_executions) == var.account_quotas.lambda_concurrent_executions
    error_message = "account_quotas.transcribe_concurrent_streams and lambda_concurrent_executions are whole numbers."
  }
  validation {
    condition     = var.account_quotas.lambda_concurrent_executions >= sum(concat([0], values(var.reserved_concurrency))) + 100
    error_message = "account_quotas.lambda_concurrent_executions must leave 100 unreserved beside reserved_concurrency (Lambda refuses to reserve more)."
  }
}

variable "talk_profile" {
  description = "The talk the capacity is planned for (docs/CAPACITY.md): listened languages and listeners per talk, finals a minute (make bench's continuous speech: about 11 for fluent speech), partial captions per second per language (the worker's PARTIAL_RATE_PER_SECOND), the speaker's audio messages per second (200 ms chunks) and heartbeats per connection per minute (the clients send one every 4 minutes). More languages or listeners per talk than planned use the quotas faster: the capacity metric counts the languages actually listened to."
  type = object({
    listened_languages        = optional(number, 5)
    listeners                 = optional(number, 1000)
    finals_per_minute         = optional(number, 11)
    partials_per_second       = optional(number, 0.6)
    audio_messages_per_second = optional(number, 5)
    heartbeats_per_minute     = optional(number, 0.25)
  })
  default = {}

  validation {
    condition     = var.talk_profile.listened_languages >= 1 && var.talk_profile.listeners >= 1 && var.talk_profile.finals_per_minute > 0 && floor(var.talk_profile.listened_languages) == var.talk_profile.listened_languages && floor(var.talk_profile.listeners) == var.talk_profile.listeners
    error_message = "talk_profile.listened_languages and listeners must be whole numbers of at least 1, finals_per_minute above 0."
  }
  validation {
    condition     = var.talk_profile.partials_per_second >= 0 && var.talk_profile.audio_messages_per_second >= 0 && var.talk_profile.heartbeats_per_minute >= 0
    error_message = "talk_profile rates cannot be negative."
  }
}

variable "measured_throughput_talks" {
  description = "Talks at once the platform itself carries as measured, where that is below what the account quotas allow: the local runtime on its machine (docs/CAPACITY.md, \"Locally\"). null (the default, AWS): the quotas alone decide."
  type        = number
  default     = null

  validation {
    condition     = var.measured_throughput_talks == null || try(var.measured_throughput_talks >= 1 && floor(var.measured_throughput_talks) == var.measured_throughput_talks, false)
    error_message = "measured_throughput_talks must be null or a whole number of at least 1."
  }
}

variable "capacity_alarm_percent" {
  description = "The capacity alarm fires when the active talks (or their estimated speech calls against Polly's quota) reach this share of the deployment's capacity, in percent."
  type        = number
  default     = 80

  validation {
    condition     = var.capacity_alarm_percent > 0 && var.capacity_alarm_percent <= 100
    error_message = "capacity_alarm_percent must be above 0 and at most 100."
  }
}
