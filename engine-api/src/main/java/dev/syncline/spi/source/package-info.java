/**
 * The source SPI: how a database (Postgres first) hands a consistent snapshot and then ordered,
 * committed changes to the engine. <em>Incubating</em>: the Postgres source issue refines it.
 *
 * <p>Durability protocol: the adapter pushes changes into a {@link
 * dev.syncline.spi.source.ChangeSink}; when {@link
 * dev.syncline.spi.source.ChangeSink#commit(dev.syncline.spi.source.SourcePosition)} returns,
 * everything up to that position is durable in bucket storage, and only then may the adapter
 * acknowledge the position upstream.
 */
@NullMarked
package dev.syncline.spi.source;

import org.jspecify.annotations.NullMarked;
