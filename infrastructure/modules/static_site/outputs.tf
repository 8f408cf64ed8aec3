output "url" {
  description = "The site's HTTPS URL (the CloudFront distribution's domain), with a trailing slash."
  value       = "https://${aws_cloudfront_distribution.site.domain_name}/"
}

output "bucket" {
  description = "Name of the private bucket holding the pages and config.json."
  value       = aws_s3_bucket.site.id
}

output "distribution_id" {
  description = "ID of the CloudFront distribution (for invalidations)."
  value       = aws_cloudfront_distribution.site.id
}

output "distribution_arn" {
  description = "ARN of the CloudFront distribution (the only reader the bucket policy allows)."
  value       = aws_cloudfront_distribution.site.arn
}

output "files" {
  description = "Every file uploaded from files_dir (config.json aside), by key."
  value       = sort(keys(aws_s3_object.page))
}
