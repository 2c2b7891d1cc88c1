/* mcr-buffered-input-stream.h: a pollable read buffer under TLS
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MCR_TYPE_BUFFERED_INPUT_STREAM (mcr_buffered_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (McrBufferedInputStream, mcr_buffered_input_stream, MCR,
                      BUFFERED_INPUT_STREAM, GFilterInputStream)

/* Reads @base (pollable) in blocks of @size bytes and serves smaller reads
 * from memory; pollable itself. The block is freed whenever it is empty. */
GInputStream *mcr_buffered_input_stream_new (GInputStream *base,
                                             gsize         size);

G_END_DECLS
