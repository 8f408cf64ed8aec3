locals {
  # Every table: on-demand, TTL on expiresAt, point-in-time recovery, encrypted.
  tables = {
    sessions = {
      hash_key   = "sessionId"
      attributes = { sessionId = "S" }
      indexes    = {}
    }
    connections = {
      hash_key   = "connectionId"
      attributes = { connectionId = "S", sessionId = "S", targetLanguage = "S" }
      # Listeners of a session, per language: status, fan-out and session end read this.
      # Speakers have no targetLanguage and so stay out of it.
      indexes = {
        (var.connections_by_session_index) = { hash_key = "sessionId", range_key = "targetLanguage" }
      }
    }
    rate-limits = {
      hash_key   = "limitKey"
      attributes = { limitKey = "S" }
      indexes    = {}
    }
    translation-cache = {
      hash_key   = "cacheKey"
      attributes = { cacheKey = "S" }
      indexes    = {}
    }
    # Every final of a session per language ("<sessionId>#<language>"), in the speaker's order (position:
    # start in zero-padded milliseconds, then the segment id). Items expire after the transcript retention.
    transcripts = {
      hash_key   = "sessionLanguage"
      range_key  = "position"
      attributes = { sessionLanguage = "S", position = "S" }
      indexes    = {}
    }
    # Listeners' questions per session, in the order asked (questionId: zero-padded milliseconds, then random hex).
    # askQuestion writes, markQuestion marks; items expire with the session's records.
    questions = {
      hash_key   = "sessionId"
      range_key  = "questionId"
      attributes = { sessionId = "S", questionId = "S" }
      indexes    = {}
    }
    # Each audio shard's read position ("<stream ARN>/<shard id>"): the last record the transcription worker's own
    # reader consumed; the next invocation reads on from there. Only the worker reads and writes it.
    shard-positions = {
      hash_key   = "shardKey"
      attributes = { shardKey = "S" }
      indexes    = {}
    }
  }
}

resource "aws_dynamodb_table" "this" {
  for_each = local.tables

  name         = "${var.name_prefix}-${each.key}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = each.value.hash_key
  range_key    = try(each.value.range_key, null)

  dynamic "attribute" {
    for_each = each.value.attributes
    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = each.value.indexes
    content {
      name            = global_secondary_index.key
      hash_key        = global_secondary_index.value.hash_key
      range_key       = global_secondary_index.value.range_key
      projection_type = "ALL"
    }
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = var.deletion_protection
  tags                        = var.tags
}
