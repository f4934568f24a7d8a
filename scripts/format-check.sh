#!/usr/bin/env bash
# Checks Swift sources against .swift-format (the formatter ships with the toolchain).
# With --fix, rewrites them in place instead.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
if [ "${1:-}" = "--fix" ]; then
  swift format format --in-place --recursive --configuration .swift-format Sources Tests Package.swift
  exit 0
fi
swift format lint --strict --recursive --configuration .swift-format Sources Tests Package.swift
