# The speaker and listener pages: a private bucket that only this CloudFront distribution may read (origin
# access control, SigV4), HTTPS only, and the pages plus a config.json Terraform writes.

locals {
  content_types = {
    html  = "text/html; charset=utf-8"
    js    = "text/javascript; charset=utf-8"
    mjs   = "text/javascript; charset=utf-8"
    css   = "text/css; charset=utf-8"
    json  = "application/json"
    map   = "application/json"
    svg   = "image/svg+xml"
    png   = "image/png"
    ico   = "image/x-icon"
    txt   = "text/plain; charset=utf-8"
    wasm  = "application/wasm"
    woff2 = "font/woff2"
  }
  # config.json is Terraform's own; a file of that name in the build would fight over it.
  files = { for path in fileset(var.files_dir, "**") : path => path if path != "config.json" }

  # Vite puts content-hashed names under assets/: those never change, pages and config.json are revalidated.
  immutable_prefix = "assets/"
}

resource "aws_s3_bucket" "site" {
  bucket        = var.name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "site" {
  bucket                  = aws_s3_bucket.site.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "site" {
  bucket = aws_s3_bucket.site.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "site" {
  bucket = aws_s3_bucket.site.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
    bucket_key_enabled = false # an S3 Bucket Key only saves KMS requests; SSE-S3 makes none
  }
}

resource "aws_s3_bucket_versioning" "site" {
  bucket = aws_s3_bucket.site.id
  versioning_configuration {
    status = var.versioning ? "Enabled" : "Disabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "site" {
  count  = var.versioning ? 1 : 0
  bucket = aws_s3_bucket.site.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {
      prefix = ""
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.site]
}

resource "aws_cloudfront_origin_access_control" "site" {
  name                              = var.name
  description                       = "CloudFront reads ${var.name} with SigV4"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

data "aws_iam_policy_document" "site" {
  statement {
    sid       = "CloudFrontReadsThroughOriginAccessControl"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.site.arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.site.arn]
    }
  }

  dynamic "statement" {
    for_each = var.require_tls ? [true] : []
    content {
      sid       = "DenyInsecureTransport"
      effect    = "Deny"
      actions   = ["s3:*"]
      resources = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]
      principals {
        type        = "*"
        identifiers = ["*"]
      }
      condition {
        test     = "Bool"
        variable = "aws:SecureTransport"
        values   = ["false"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "site" {
  bucket = aws_s3_bucket.site.id
  policy = data.aws_iam_policy_document.site.json

  depends_on = [aws_s3_bucket_public_access_block.site]
}

resource "aws_cloudfront_distribution" "site" {
  enabled             = var.distribution_enabled
  comment             = "${var.name}: speaker and listener pages"
  default_root_object = var.default_root_object
  price_class         = var.price_class
  http_version        = "http2and3"
  is_ipv6_enabled     = true
  wait_for_deployment = var.wait_for_deployment

  origin {
    origin_id                = "site"
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.site.id
  }

  default_cache_behavior {
    target_origin_id       = "site"
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    compress               = true
    # AWS managed policies: CachingOptimized (honours each object's Cache-Control) and SecurityHeadersPolicy
    # (HSTS, nosniff, frame options, referrer policy).
    cache_policy_id            = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    response_headers_policy_id = "67f7725c-6f97-4210-82d7-5512b31e9d03"
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }

  tags = var.tags
}

resource "aws_s3_object" "page" {
  for_each = local.files

  bucket        = aws_s3_bucket.site.id
  key           = each.key
  source        = "${var.files_dir}/${each.key}"
  source_hash   = filemd5("${var.files_dir}/${each.key}")
  content_type  = lookup(local.content_types, lower(reverse(split(".", each.key))[0]), "application/octet-stream")
  cache_control = startswith(each.key, local.immutable_prefix) ? "public, max-age=31536000, immutable" : "no-cache"

  # Uploaded once versioning is on, so every file has a version of its own from the start.
  depends_on = [aws_s3_bucket_versioning.site]
}

resource "aws_s3_object" "config" {
  bucket        = aws_s3_bucket.site.id
  key           = "config.json"
  content       = jsonencode(var.config)
  content_type  = "application/json"
  cache_control = "no-cache"

  depends_on = [aws_s3_bucket_versioning.site]
}
