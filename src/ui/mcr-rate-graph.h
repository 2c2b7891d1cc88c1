/* mcr-rate-graph.h: a small live graph of bytes per second each way
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MCR_TYPE_RATE_GRAPH (mcr_rate_graph_get_type ())
G_DECLARE_FINAL_TYPE (McrRateGraph, mcr_rate_graph, MCR, RATE_GRAPH, GtkWidget)

GtkWidget *mcr_rate_graph_new   (void);
/* Sets the current rates; the graph moves on by one sample a second while it
 * is shown. */
void       mcr_rate_graph_set_rates (McrRateGraph *self,
                                     double        sent,
                                     double        received);
void       mcr_rate_graph_clear (McrRateGraph *self);

G_END_DECLS
