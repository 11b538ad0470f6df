/**
 * Testing support for applications using Syncline: {@link dev.syncline.testkit.SyncRulesTester} to
 * unit-test sync rules (which buckets a user gets, which rows land in them, and why), fluent
 * assertions in {@link dev.syncline.testkit.SyncRulesAssertions}, and {@link
 * dev.syncline.testkit.ConformanceRunner} to run conformance vector directories.
 */
@NullMarked
package dev.syncline.testkit;

import org.jspecify.annotations.NullMarked;
