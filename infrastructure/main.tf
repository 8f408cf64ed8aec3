locals {
  name_prefix   = "${var.project}-${var.environment}"
  stage_name    = coalesce(var.stage_name, var.environment)
  artifacts_dir = coalesce(var.artifacts_dir, "${path.root}/../dist")
  manifest      = jsondecode(file("${local.artifacts_dir}/manifest.json"))

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  artifacts = {
    for name, artifact in local.manifest.artifacts : name => {
      path   = "${local.artifacts_dir}/${artifact.path}"
      sha256 = artifact.sha256
    }
  }

  # The platform's functions, routes and who invokes what are declared once, in platform.json
  # (make build, make guard, make verify and the tests read the same file).
  platform = jsondecode(file("${path.module}/platform.json"))

  # Every function: the artifact it runs (a key of dist/manifest.json), its handler, profile and schedule.
  functions = local.platform.functions
  # WebSocket routes: route key -> the function (a key of local.functions) integrated with it.
  routes = local.platform.routes
  # Functions a Kinesis event source mapping invokes: function key -> the stream it reads.
  stream_consumers = local.platform.stream_consumers
  # Functions an SQS event source mapping invokes: function key -> the queue (module.function_queue) it reads.
  queue_consumers = try(local.platform.queue_consumers, {})
  # Functions that invoke others themselves (Lambda Invoke): caller -> callees.
  function_calls = local.platform.function_calls
  # Functions Lambda may invoke asynchronously: the schedules' (EventBridge Scheduler invokes asynchronously) and
  # every callee (the worker's warm-ups are Event invokes). Each gets an on-failure queue (module.failure_queues).
  asynchronous_functions = toset(concat(
    [for key, fn in local.functions : key if fn.schedule != null],
    flatten(values(local.function_calls)),
  ))
  # The function API Gateway calls to authorize $connect.
  authorizer_function = local.platform.authorizer

  # The committed price file of the region (each price with its source page and date): the functions' live estimate
  # and the dashboard's $ per talk-hour price with it, as `make cost` does.
  prices = { for name, entry in jsondecode(file("${path.module}/pricing/${var.aws_region}.json")).prices : name => entry.usd }

  function_names = { for key, fn in local.functions : key => "${local.name_prefix}-${replace(key, "_", "-")}" }

  # Each function gets the variables its settings read and no others (broadcast_shared.config and each service's
  # settings.py). What every function that reaches clients reads (Settings: the transcription worker's whole share):
  shared_environment = {
    POWERTOOLS_METRICS_NAMESPACE = "SpeechBroadcast"
    POWERTOOLS_LOG_LEVEL         = var.log_level
    SESSIONS_TABLE               = module.tables.tables["sessions"].name
    CONNECTIONS_TABLE            = module.tables.tables["connections"].name
    MANAGEMENT_API_ENDPOINT      = "${replace(module.websocket_api.api_endpoint, "wss://", "https://")}/${local.stage_name}"
  }
  # ...finding a session's listeners and seeing them leave (AudienceSettings: the translation pipeline)...
  audience_environment = merge(local.shared_environment, {
    CONNECTIONS_BY_SESSION_INDEX = module.tables.connections_by_session_index.name
    SPEAKER_GRACE_SECONDS        = tostring(var.session_limits.speaker_grace_seconds)
  })
  # ...and admitting a client's message on a WebSocket route (RouteSettings: session management, sendAudio).
  route_environment = merge(local.audience_environment, {
    RATE_LIMITS_TABLE       = module.tables.tables["rate-limits"].name
    CONTROL_RATE_PER_SECOND = tostring(var.session_limits.control_rate_per_second)
  })

  session_environment = merge(local.route_environment, {
    POWERTOOLS_SERVICE_NAME            = "session-management"
    IDLE_TIMEOUT_SECONDS               = tostring(var.session_limits.idle_timeout_seconds)
    MAX_LISTENERS_PER_SESSION          = tostring(var.session_limits.max_listeners_per_session)
    MAX_SESSIONS_PER_USER_PER_HOUR     = tostring(var.session_limits.max_sessions_per_user_per_hour)
    CONNECTION_REFRESH_WARNING_SECONDS = "300"
    ALLOWED_TERMINOLOGIES              = join(",", var.translation.terminologies)
    TRANSCRIPTS_TABLE                  = module.tables.tables["transcripts"].name
    TRANSCRIPT_RETENTION_SECONDS       = tostring(var.transcript_retention_days * 86400)
    CONTROL_BROADCASTS_PER_SECOND      = tostring(var.session_limits.control_broadcasts_per_second)
    CONTROL_QUEUE_URL                  = module.function_queue["control"].url
    QUESTIONS_TABLE                    = module.tables.tables["questions"].name
    # askQuestion translates a listener's question into the session's source language.
    TRANSLATION_ENGINE = var.translation.translation_engine
    # createSession warms the audio path ahead of the speaker's first words (docs/ARCHITECTURE.md, "Warm path"):
    # function name -> environments to warm at once (platform.json warm_ups.create_session), as JSON.
    WARM_UP_FUNCTIONS = jsonencode({ for callee, environments in local.platform.warm_ups.create_session : local.function_names[callee] => environments })
    # joinSession warms the pipeline for a language's first listener.
    TRANSLATION_FUNCTION_NAME = local.function_names["translate_segment"]
    # sessionStatus prices the session's usage with the region's price file (broadcast_shared.pricing).
    PRICES = jsonencode(local.prices)
  })

  # What the deployment's capacity is derived from (broadcast_shared.capacity.CapacityPlan): the account's quotas,
  # the talk planned for, and the concurrency translate-segment may use (its reserved concurrency, else what the
  # account leaves unreserved).
  capacity_plan = {
    quotas           = var.account_quotas
    talk             = local.capacity_talk
    prefer_neural    = var.translation.prefer_neural
    throughput_talks = var.measured_throughput_talks
    translation_concurrency = lookup(
      var.reserved_concurrency, "translate_segment",
      var.account_quotas.lambda_concurrent_executions - sum(concat([0], values(var.reserved_concurrency))),
    )
  }
  # The same derivation, shown as an output (tests/test_terraform.py checks it against broadcast_shared.capacity on
  # the local deployment): talks at once per bound, the smallest deciding.
  capacity_talk = merge(var.talk_profile, { listeners_per_fanout_invocation = local.fanout_slice_size })
  # Listeners one translate-segment invocation posts to; more are handed to concurrent invocations of itself.
  fanout_slice_size = 250
  capacity_bounds = merge(
    {
      speechCallsPerSecond   = floor((var.translation.prefer_neural ? var.account_quotas.polly_neural_tps : var.account_quotas.polly_standard_tps) / (local.capacity_talk.finals_per_minute * local.capacity_talk.listened_languages / 60) + 1e-9)
      transcribeStreams      = var.account_quotas.transcribe_concurrent_streams
      translationConcurrency = floor(local.capacity_plan.translation_concurrency / (local.capacity_talk.listened_languages * ceil(local.capacity_talk.listeners / local.capacity_talk.listened_languages / local.fanout_slice_size)))
      apiGatewayRequestsPerSecond = floor(var.account_quotas.api_gateway_requests_per_second / (
        local.capacity_talk.listeners * (local.capacity_talk.partials_per_second + local.capacity_talk.finals_per_minute / 60)
        + local.capacity_talk.audio_messages_per_second
        + (local.capacity_talk.listeners + 1) * local.capacity_talk.heartbeats_per_minute / 60
      ) + 1e-9)
    },
    var.measured_throughput_talks == null ? {} : { measuredThroughput = var.measured_throughput_talks },
  )
  max_concurrent_talks = max(1, min(values(local.capacity_bounds)...))

  audio_stream_name = "${local.name_prefix}-audio"

  # sendAudio (AudioSettings' ingest fields)
  audio_environment = merge(local.route_environment, {
    POWERTOOLS_SERVICE_NAME = "audio-transcription"
    AUDIO_STREAM_NAME       = local.audio_stream_name
    AUDIO_RATE_PER_SECOND   = tostring(var.audio.rate_per_second)
  })

  worker_environment = merge(local.shared_environment, {
    POWERTOOLS_SERVICE_NAME   = "audio-transcription"
    AUDIO_STREAM_NAME         = local.audio_stream_name
    TRANSCRIPTION_ENGINE      = var.audio.transcription_engine
    SILENCE_TIMEOUT_SECONDS   = tostring(var.audio.silence_timeout_seconds)
    TRANSLATION_FUNCTION_NAME = local.function_names["translate_segment"]
    DEADLINE_MARGIN_SECONDS   = tostring(local.worker_deadline_margin_seconds)
    SHARD_POSITIONS_TABLE     = module.tables.tables["shard-positions"].name
    # Where the worker shows the listeners that captions are held back (broadcastState.captionsDelayed).
    CONTROL_QUEUE_URL = module.function_queue["control"].url
  })
  # The worker stops reading its shard this long before its timeout: closing its streams (at most 5 s), draining its
  # forwards and a 2 s reserve must fit (docs/ARCHITECTURE.md, "Talks longer than an invocation").
  worker_deadline_margin_seconds = min(30, max(10, floor(var.transcription_worker.timeout_seconds / 3)))

  translation_environment = merge(local.audience_environment, {
    POWERTOOLS_SERVICE_NAME      = "translation-pipeline"
    TRANSLATION_CACHE_TABLE      = module.tables.tables["translation-cache"].name
    TRANSLATION_ENGINE           = var.translation.translation_engine
    SPEECH_ENGINE                = var.translation.speech_engine
    POLLY_VOICES                 = jsonencode(var.translation.polly_voices)
    POLLY_PREFER_NEURAL          = tostring(var.translation.prefer_neural)
    TRANSCRIPTS_TABLE            = module.tables.tables["transcripts"].name
    TRANSCRIPT_RETENTION_SECONDS = tostring(var.transcript_retention_days * 86400)
    FANOUT_SLICE_SIZE            = tostring(local.fanout_slice_size)
  })

  authorizer_environment = merge(
    {
      POWERTOOLS_SERVICE_NAME      = "session-management"
      POWERTOOLS_METRICS_NAMESPACE = "SpeechBroadcast"
      POWERTOOLS_LOG_LEVEL         = var.log_level
      JWT_ISSUER                   = local.speaker_auth.issuer
      JWT_AUDIENCE                 = local.speaker_auth.audience
      JWT_SPEAKER_GROUP            = local.speaker_auth.speaker_group
      JWT_SPEAKER_SCOPE            = local.speaker_auth.speaker_scope
    },
    local.speaker_auth.jwks_url != null ? { JWKS_URL = local.speaker_auth.jwks_url } : {},
    local.speaker_auth.jwks_json != null ? { JWKS_JSON = local.speaker_auth.jwks_json } : {},
  )

  # IAM: each function gets what it calls and nothing more (docs/ARCHITECTURE.md, "Least privilege").
  # What every WebSocket route's function calls through the shared route wrapper and Departures (a send that
  # meets a gone connection removes it and may end its session): the connection and session items, the
  # listeners index, and the Management API. No Scan, no PutItem: those are named per function below.
  membership_access = {
    Sessions = {
      actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]
      resources = [module.tables.tables["sessions"].arn]
    }
    Connections = {
      actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
      resources = [module.tables.tables["connections"].arn]
    }
    Audience = {
      actions   = ["dynamodb:Query"]
      resources = [module.tables.connections_by_session_index.arn]
    }
    ManageConnections = {
      actions   = ["execute-api:ManageConnections"]
      resources = ["${module.websocket_api.execution_arn}/${local.stage_name}/*/@connections/*"]
    }
  }

  # ...plus the rate-limit counters every client message is counted against.
  session_access = merge(local.membership_access, {
    RateLimits = {
      actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      resources = [module.tables.tables["rate-limits"].arn]
    }
  })

  # The control routes: a change inside its session's window leaves a delayed follow-up on the control queue.
  control_access = merge(local.session_access, {
    QueueFollowUps = { actions = ["sqs:SendMessage"], resources = [module.function_queue["control"].arn] }
  })

  # The report after the talk (docs/ARCHITECTURE.md, "The report after the talk"): the audience routes and the
  # periodic status sample the audience beside the transcripts (one conditional UpdateItem per minute's item).
  sample_audience = {
    SampleAudience = { actions = ["dynamodb:UpdateItem"], resources = [module.tables.tables["transcripts"].arn] }
  }

  # Functions whose needs differ from their profile's, by function key.
  function_access = {
    pause_broadcast  = local.control_access
    set_questions    = local.control_access
    resume_broadcast = local.control_access
    mute_broadcast   = local.control_access
    unmute_broadcast = local.control_access
    set_volume       = local.control_access
    # The control queue's consumer (its event source mapping receives with the function's role); a follow-up
    # that comes inside a newer window queues the next one.
    publish_broadcast_state = merge(local.membership_access, {
      QueueFollowUps   = { actions = ["sqs:SendMessage"], resources = [module.function_queue["control"].arn] }
      ReceiveFollowUps = { actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources = [module.function_queue["control"].arn] }
    })
    connect    = { Register = { actions = ["dynamodb:PutItem"], resources = [module.tables.tables["connections"].arn] } }
    disconnect = local.membership_access
    create_session = merge(local.session_access, {
      CreateSession = { actions = ["dynamodb:PutItem"], resources = [module.tables.tables["sessions"].arn] }
      WarmUp = {
        actions   = ["lambda:InvokeFunction"]
        resources = [for callee in local.function_calls.create_session : "arn:${data.aws_partition.current.partition}:lambda:${var.aws_region}:${data.aws_caller_identity.current.account_id}:function:${local.function_names[callee]}"]
      }
    })
    change_language = merge(local.session_access, local.sample_audience)
    # endSession samples the audience a last time, reads the samples and keeps the report.
    end_session = merge(local.session_access, {
      SampleAudience = { actions = ["dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:PutItem"], resources = [module.tables.tables["transcripts"].arn] }
    })
    join_session = merge(local.session_access, local.sample_audience, {
      WarmUp = {
        actions   = ["lambda:InvokeFunction"]
        resources = [for callee in local.function_calls.join_session : "arn:${data.aws_partition.current.partition}:lambda:${var.aws_region}:${data.aws_caller_identity.current.account_id}:function:${local.function_names[callee]}"]
      }
    })
    publish_periodic_status = merge(local.membership_access, local.sample_audience, {
      FindSessions = { actions = ["dynamodb:Scan"], resources = [module.tables.tables["sessions"].arn] }
    })
    # The sweep scans connections (idle, old, malformed) and sessions (speakers gone, ends not yet announced).
    sweep_idle_connections = merge(local.membership_access, {
      FindConnections = { actions = ["dynamodb:Scan"], resources = [module.tables.tables["connections"].arn, module.tables.tables["sessions"].arn] }
    })
    reconcile_counts = merge(local.membership_access, {
      FindSessions = { actions = ["dynamodb:Scan"], resources = [module.tables.tables["sessions"].arn] }
    })
    # Reads the segments the translation pipeline keeps in the transcripts table.
    get_transcript = merge(local.session_access, {
      ReadTranscripts = { actions = ["dynamodb:Query"], resources = [module.tables.tables["transcripts"].arn] }
    })
    # A listener's question: translated into the session's language (Translate has no resource-level permission
    # for TranslateText without terminologies) and kept; the speaker marks it.
    ask_question = merge(local.session_access, {
      KeepQuestions = { actions = ["dynamodb:PutItem"], resources = [module.tables.tables["questions"].arn] }
      Translate     = { actions = ["translate:TranslateText"], resources = ["*"] }
    })
    mark_question = merge(local.session_access, {
      MarkQuestions = { actions = ["dynamodb:UpdateItem"], resources = [module.tables.tables["questions"].arn] }
    })
  }

  audio_access = merge(local.session_access, {
    AppendAudio = {
      actions   = ["kinesis:PutRecord"]
      resources = [module.audio_stream.arn]
    }
  })

  worker_access = {
    SessionTables = {
      actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      resources = [module.tables.tables["sessions"].arn]
    }
    # Each shard's read position: read, then moved by a conditional write (UpdateItem creates it).
    ShardPositions = {
      actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      resources = [module.tables.tables["shard-positions"].arn]
    }
    ManageConnections = local.membership_access.ManageConnections
    ReadAudio = {
      actions = [
        "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
        "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:ListStreams",
      ]
      resources = [module.audio_stream.arn]
    }
    # The event source mapping's on-failure destination is sent with the function's role.
    ReportFailedAudio = {
      actions   = ["sqs:SendMessage"]
      resources = [module.audio_stream.failures_queue_arn]
    }
    Transcribe = {
      actions   = ["transcribe:StartStreamTranscription", "transcribe:StartStreamTranscriptionWebSocket"]
      resources = ["*"] # Transcribe streaming has no resource-level permissions
    }
    # While Transcribe refuses a session's stream its listeners are shown captions held back: the session's
    # broadcast state changes, and the control queue's consumer sends it (session management's coalescing).
    QueueFollowUps = { actions = ["sqs:SendMessage"], resources = [module.function_queue["control"].arn] }
    ForwardSegments = {
      actions   = ["lambda:InvokeFunction"]
      resources = [for callee in local.function_calls.transcription_worker : "arn:${data.aws_partition.current.partition}:lambda:${var.aws_region}:${data.aws_caller_identity.current.account_id}:function:${local.function_names[callee]}"]
    }
  }

  translation_access = merge(local.membership_access, {
    TranslationCache = {
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      resources = [module.tables.tables["translation-cache"].arn]
    }
    KeepTranscripts = {
      actions   = ["dynamodb:PutItem"]
      resources = [module.tables.tables["transcripts"].arn]
    }
    TranslateAndSpeak = {
      actions   = ["translate:TranslateText", "polly:SynthesizeSpeech"]
      resources = ["*"] # neither has resource-level permissions for these calls without terminologies or lexicons
    }
    FanOutSlices = {
      actions   = ["lambda:InvokeFunction"]
      resources = [for callee in local.function_calls.translate_segment : "arn:${data.aws_partition.current.partition}:lambda:${var.aws_region}:${data.aws_caller_identity.current.account_id}:function:${local.function_names[callee]}"]
    }
  })

  # What each kind of function runs with.
  profiles = {
    authorizer = { environment = local.authorizer_environment, access = {}, timeout = 10, memory_size = 256 }
    session    = { environment = local.session_environment, access = local.session_access, timeout = 10, memory_size = 256 }
    # A failed run is not retried (the next one comes within minutes); after the failure it is kept on its queue.
    scheduled = { environment = local.session_environment, access = local.membership_access, timeout = 60, memory_size = 256, maximum_retry_attempts = 0, maximum_event_age_in_seconds = 60 }
    audio     = { environment = local.audio_environment, access = local.audio_access, timeout = 10, memory_size = 512 }
    # Owns a shard's sessions for up to the Lambda limit (see docs/ARCHITECTURE.md).
    worker = { environment = local.worker_environment, access = local.worker_access, timeout = var.transcription_worker.timeout_seconds, memory_size = 1024 }
    # One segment: a Translate call and a Polly call per language, then the fan-out.
    # Its Event invokes are retried twice; a caption older than 10 minutes is no use to a live audience.
    translation = { environment = local.translation_environment, access = local.translation_access, timeout = 30, memory_size = 512, maximum_retry_attempts = 2, maximum_event_age_in_seconds = 600 }
  }

  # Functions that read variables their profile does not give, by function key: createSession admits talks up to
  # the capacity broadcast_shared.capacity derives from this plan, and the periodic status measures the load against
  # it (docs/CAPACITY.md); the other session functions never read it.
  function_variables = {
    create_session          = { CAPACITY_PLAN = jsonencode(local.capacity_plan) }
    publish_periodic_status = { CAPACITY_PLAN = jsonencode(local.capacity_plan) }
  }

  # Each function's variables: its profile's, its own, and what its artifact's libraries need at start (platform.json's
  # artifact environment, e.g. numpy's OpenBLAS kept to one thread).
  function_environment = {
    for key, fn in local.functions : key => merge(
      local.profiles[fn.profile].environment,
      try(local.function_variables[key], {}),
      try(local.platform.artifacts[fn.artifact].environment, {}),
    )
  }
}

module "tables" {
  source = "./modules/tables"

  name_prefix            = local.name_prefix
  point_in_time_recovery = var.point_in_time_recovery
  deletion_protection    = var.deletion_protection
}

module "shared_layer" {
  source = "./modules/lambda_layer"

  layer_name          = "${local.name_prefix}-shared"
  description         = "broadcast_shared and its runtime dependencies"
  artifact            = local.artifacts["shared-layer"]
  compatible_runtimes = [var.lambda_runtime]
  architecture        = var.lambda_architecture
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

module "function" {
  source   = "./modules/lambda_function"
  for_each = local.functions

  function_name     = local.function_names[each.key]
  description       = each.value.description
  artifact          = local.artifacts[each.value.artifact]
  handler           = each.value.handler
  runtime           = var.lambda_runtime
  architecture      = var.lambda_architecture
  layers            = [module.shared_layer.arn]
  timeout           = local.profiles[each.value.profile].timeout
  memory_size       = local.profiles[each.value.profile].memory_size
  environment       = local.function_environment[each.key]
  policy_statements = try(local.function_access[each.key], local.profiles[each.value.profile].access)
  # Stream-, schedule- and asynchronously-invoked functions: the stage's throttle does not bound them.
  reserved_concurrency = lookup(var.reserved_concurrency, each.key, -1)
  on_failure = contains(local.asynchronous_functions, each.key) ? {
    queue_arn                    = module.failure_queues.arns["${replace(each.key, "_", "-")}-failures"]
    maximum_retry_attempts       = try(local.profiles[each.value.profile].maximum_retry_attempts, 0)
    maximum_event_age_in_seconds = try(local.profiles[each.value.profile].maximum_event_age_in_seconds, 60)
  } : null
  tracing            = var.tracing
  log_retention_days = var.log_retention_days
}

module "websocket_api" {
  source = "./modules/websocket_api"

  name        = "${local.name_prefix}-websocket"
  description = "Real-time speech translation broadcast (${var.environment})"
  stage_name  = local.stage_name
  routes = {
    for route_key, function in local.routes : route_key => {
      function_name = module.function[function].function_name
      invoke_arn    = module.function[function].invoke_arn
    }
  }
  authorizer = {
    function_name    = module.function[local.authorizer_function].function_name
    invoke_arn       = module.function[local.authorizer_function].invoke_arn
    identity_sources = ["route.request.querystring.role"]
  }
  create_deployment  = var.create_deployment
  throttling         = var.throttling
  route_throttling   = var.route_throttling
  log_retention_days = var.log_retention_days
}

module "schedules" {
  source = "./modules/schedules"

  name_prefix           = local.name_prefix
  dead_letter_queue_arn = module.failure_queues.arns["schedules-undelivered"]
  schedules = {
    for key, fn in local.functions : replace(key, "_", "-") => {
      expression   = fn.schedule
      description  = fn.description
      function_arn = module.function[key].arn
    } if fn.schedule != null
  }
}

# Speakers sign in at the user pool's hosted UI; the $connect authorizer checks its tokens unless speaker_auth
# names another issuer (the local environment's own, tools/broadcast_tools/local_auth.py).
module "identity" {
  source = "./modules/identity"

  name                = "${local.name_prefix}-speakers"
  domain_prefix       = coalesce(var.sign_in.domain_prefix, local.name_prefix)
  callback_urls       = concat(var.site.enabled ? ["${module.site[0].url}speaker.html"] : [], var.sign_in.extra_callback_urls)
  speaker_group       = var.sign_in.speaker_group
  mfa                 = var.sign_in.mfa
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

# The speaker and listener pages (web/dist) and their config.json, behind CloudFront.
module "site" {
  source = "./modules/static_site"
  count  = var.site.enabled ? 1 : 0

  name        = "${local.name_prefix}-site-${data.aws_caller_identity.current.account_id}"
  files_dir   = coalesce(var.site_dir, "${path.root}/../web/dist")
  price_class = var.site.price_class
  require_tls = var.site.require_tls
  versioning  = var.site.versioning
  config = {
    webSocketUrl = module.websocket_api.stage_url
    signIn = {
      mode        = "cognito"
      hostedUiUrl = module.identity.hosted_ui_url
      clientId    = module.identity.client_id
      scope       = "openid email"
      redirectUri = module.identity.redirect_uri
    }
  }
  tags = local.tags
}

locals {
  speaker_auth = var.speaker_auth != null ? var.speaker_auth : {
    issuer        = module.identity.authorizer.issuer
    audience      = module.identity.authorizer.audience
    jwks_url      = module.identity.authorizer.jwks_url
    jwks_json     = null
    speaker_group = module.identity.authorizer.speaker_group
    speaker_scope = "broadcast/speak"
  }
}

module "audio_stream" {
  source = "./modules/kinesis_stream"

  name        = local.audio_stream_name
  on_demand   = var.audio.stream_on_demand
  shard_count = var.audio.stream_shard_count
  consumers = {
    for key, stream in local.stream_consumers : replace(key, "_", "-") => {
      function_name = module.function[key].function_name
      batch_size    = var.transcription_worker.batch_size
      # The worker reads the shard itself, far past the batches the mapping delivers: during a talk the mapping
      # falls behind by design (its records were consumed already) and catches up after it. Its records must not
      # expire into the failures queue meanwhile; the stream's retention bounds them.
      maximum_record_age_seconds = -1
    } if stream == "audio"
  }
  # The mapping's IteratorAge measures its bookkeeping, not what listeners wait for (that is the reader's lag, below):
  # it alarms only when its records near the end of the stream's 24 h retention (docs/OPERATIONS.md, "Audio lag").
  iterator_age_alarm_seconds = 12 * 3600
  reader_lag_alarm = {
    namespace         = local.shared_environment.POWERTOOLS_METRICS_NAMESPACE
    metric            = "AudioReadBehindLatest"
    service           = "audio-transcription"
    threshold_seconds = var.transcription_worker.read_lag_alarm_seconds
  }
  alarm_actions = module.monitoring.alarm_actions
  tags          = local.tags
}

# Alarms to an SNS topic per environment, and a dashboard along a talk's path (docs/OPERATIONS.md).
module "monitoring" {
  source = "./modules/monitoring"

  name_prefix            = local.name_prefix
  region                 = var.aws_region
  subscriptions          = var.alarm_subscriptions
  extra_alarm_actions    = var.alarm_actions
  functions              = local.function_names
  prices                 = local.prices
  error_alarms_elsewhere = keys(local.stream_consumers)
  api                    = { id = module.websocket_api.api_id, stage = local.stage_name }
  application_alarms = {
    fanout-failures         = { metric = "FanOutFailed", service = "translation-pipeline", threshold = 0, description = "captions or speech could not be delivered to some listeners (not gone: failed)" }
    segments-forward-failed = { metric = "SegmentsForwardFailed", service = "audio-transcription", threshold = 0, description = "the worker could not hand finals to the translation function: listeners miss those captions" }
    listener-count-drift    = { metric = "ListenerCountDrift", service = "session-management", threshold = 0, description = "a session's listener counters disagreed with its connections (the reconciler corrected them)" }
    sweep-failures          = { metric = "SweepFailures", service = "session-management", threshold = 0, description = "the sweep could not handle some connections or sessions (retried every minute)" }
    capacity                = { metric = "CapacityUsedPercent", service = "session-management", statistic = "Maximum", comparison = "GreaterThanOrEqualToThreshold", threshold = var.capacity_alarm_percent, description = "the active talks (or their speech calls against Polly's quota) reached ${var.capacity_alarm_percent} % of the deployment's capacity of ${local.max_concurrent_talks} talks: new talks are refused at the capacity (docs/CAPACITY.md, which quotas to raise)" }
    active-talks-drift      = { metric = "ActiveTalksDrift", service = "session-management", threshold = 0, description = "the active-talks counter createSession admits against disagreed with the active sessions (the reconciler corrected it)" }
    # Throttling (docs/ARCHITECTURE.md, "Throttling"): the account's quotas reached; listeners got a degraded final.
    speech-throttled        = { metric = "SpeechThrottled", service = "translation-pipeline", threshold = 0, description = "Polly throttled speech past a final's budget (the account's SynthesizeSpeech quota: neural 8/s, standard 80/s)" }
    speech-fallbacks        = { metric = "SpeechFallbacks", service = "translation-pipeline", threshold = 0, description = "finals were spoken by the standard voice because the neural one was throttled: raise Polly's neural quota" }
    speech-skipped          = { metric = "SpeechSkipped", service = "translation-pipeline", threshold = 0, description = "finals went out without speech (Polly throttled past the budget, or failed); listeners saw 'speech unavailable'" }
    translations-throttled  = { metric = "TranslationsThrottled", service = "translation-pipeline", threshold = 0, description = "Amazon Translate throttled captions past their budget: they went out in the source language (translated false)" }
    messages-throttled      = { metric = "MessagesThrottled", service = "translation-pipeline", threshold = 0, description = "the Management API throttled posts past botocore's retries (the account's 10,000 requests/s): those listeners missed a message" }
    transcription-throttled = { metric = "TranscriptionThrottled", service = "audio-transcription", threshold = 0, description = "Amazon Transcribe refused streams for the account's concurrent-stream quota (LimitExceededException): those talks' captions wait, their audio held, until a stream opens" }
  }
  talk_path = {
    functions   = [for key in ["send_audio", "transcription_worker", "translate_segment", "join_session"] : local.function_names[key]]
    stream_name = local.audio_stream_name
    worker      = local.function_names["transcription_worker"]
    emf_by_service = {
      audio-transcription  = ["AudioChunksAccepted", "TranscriptFinals", "AudioGaps", "SegmentsForwardFailed", "TranscriptionThrottled"]
      translation-pipeline = ["SegmentsTranslated", "FanOutDelivered", "FanOutFailed", "GoneConnections", "SpeechFallbacks", "SpeechSkipped", "TranslationsThrottled", "MessagesThrottled"]
      session-management   = ["ListenersJoined", "SessionsEnded", "SpeakersReconnecting", "ListenerCountDrift", "ActiveTalks", "CapacityUsedPercent"]
    }
  }
  tags = local.tags
}

# On-failure queues: one per asynchronously invoked function (its failed events, after Lambda's retries) and one for
# schedule runs EventBridge Scheduler could not deliver; each alarms to the topic while it holds a message, as does
# the audio stream's failures queue (docs/OPERATIONS.md, "On-failure queues").
module "failure_queues" {
  source = "./modules/failure_queues"

  name_prefix = local.name_prefix
  queues = merge(
    { for key in local.asynchronous_functions : "${replace(key, "_", "-")}-failures" => "${local.function_names[key]} failed an asynchronous event after its retries" },
    { schedules-undelivered = "EventBridge Scheduler could not invoke a scheduled function" },
  )
  other_queues = merge(
    {
      audio-failures = { name = "${local.audio_stream_name}-failures", description = "the transcription worker failed a batch of audio records after every retry" }
    },
    { for queue, function in module.function_queue : "${queue}-dead-letter" => { name = function.dead_letter_name, description = "the ${queue} queue's function failed a message on every receive" } },
  )
  alarm_actions = module.monitoring.alarm_actions
  tags          = local.tags
}

# Queues whose event source mapping invokes a function (platform.json queue_consumers), by queue key: the control
# queue carries each session's delayed trailing broadcastStateChanged (docs/ARCHITECTURE.md, "Control broadcasts").
module "function_queue" {
  source   = "./modules/function_queue"
  for_each = { for function, queue in local.queue_consumers : queue => function }

  name          = "${local.name_prefix}-${each.key}"
  function_name = module.function[each.value].function_name
  tags          = local.tags
}
