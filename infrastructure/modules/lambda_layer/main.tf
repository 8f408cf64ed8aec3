resource "aws_lambda_layer_version" "this" {
  layer_name               = var.layer_name
  description              = var.description
  filename                 = var.artifact.path
  source_code_hash         = var.artifact.sha256
  compatible_runtimes      = var.compatible_runtimes
  compatible_architectures = [var.architecture]
}
