#!/usr/bin/env bash
# Prints the Terraform CLI to use: $TF_ACC_TERRAFORM_PATH, else a terraform >= 1.5 on PATH,
# else bin/terraform (which the GNUmakefile builds when missing).
bin=${1:-bin}
if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ] && [ -x "$TF_ACC_TERRAFORM_PATH" ]; then
  echo "$TF_ACC_TERRAFORM_PATH"; exit 0
fi
if [ -x "$bin/terraform" ]; then echo "$bin/terraform"; exit 0; fi
if t=$(command -v terraform 2>/dev/null); then
  v=$("$t" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p')
  major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}
  if [ -n "$v" ] && { [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 5 ]; }; }; then
    echo "$t"; exit 0
  fi
fi
echo "$bin/terraform"
