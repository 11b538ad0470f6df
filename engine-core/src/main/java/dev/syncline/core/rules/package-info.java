/** Compiling sync rules: {@link dev.syncline.core.rules.SyncRulesCompiler}. */
@NullMarked
package dev.syncline.core.rules;

import org.jspecify.annotations.NullMarked;
