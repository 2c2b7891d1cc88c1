/* mcr-rate-graph.c: a small live graph of bytes per second each way
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-rate-graph"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-rate-graph.h"

#define N_SAMPLES 60

struct _McrRateGraph
{
  GtkWidget parent_instance;

  double    sent[N_SAMPLES];
  double    received[N_SAMPLES];
  guint     head;          /* index of the newest sample */
  double    current_sent;
  double    current_received;
  gint64    updated;       /* monotonic time of the last rates */
  guint     tick_id;
};

G_DEFINE_FINAL_TYPE (McrRateGraph, mcr_rate_graph, GTK_TYPE_WIDGET)

static void
mcr_rate_graph_update_tooltip (McrRateGraph *self)
{
  g_autofree char *sent = g_format_size ((guint64) self->current_sent);
  g_autofree char *received = g_format_size ((guint64) self->current_received);
  /* Translators: rates, "Sent 1.2 kB/s, received 3.4 kB/s" */
  g_autofree char *text = g_strdup_printf (_("Sent %s/s (orange), received %s/s (blue)"),
                                           sent, received);

  gtk_widget_set_tooltip_text (GTK_WIDGET (self), text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  text, -1);
}

/* Nothing on the graph and nothing coming: a flat line that moving on
 * would not change. */
static gboolean
is_flat (McrRateGraph *self)
{
  if (self->current_sent > 0 || self->current_received > 0)
    return FALSE;
  for (guint i = 0; i < N_SAMPLES; i++)
    if (self->sent[i] > 0 || self->received[i] > 0)
      return FALSE;
  return TRUE;
}

static gboolean
tick (gpointer user_data)
{
  McrRateGraph *self = user_data;

  /* Rates are only reported while there is traffic: silence means zero. */
  if (g_get_monotonic_time () - self->updated > 2500 * G_TIME_SPAN_MILLISECOND)
    self->current_sent = self->current_received = 0;
  self->head = (self->head + 1) % N_SAMPLES;
  self->sent[self->head] = self->current_sent;
  self->received[self->head] = self->current_received;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  /* An idle map does not wake the program up every second. */
  if (is_flat (self))
    {
      self->tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
start_ticking (McrRateGraph *self)
{
  if (self->tick_id == 0 && gtk_widget_get_mapped (GTK_WIDGET (self)) && !is_flat (self))
    self->tick_id = g_timeout_add (1000, tick, self);
}

static void
mcr_rate_graph_map (GtkWidget *widget)
{
  McrRateGraph *self = MCR_RATE_GRAPH (widget);

  GTK_WIDGET_CLASS (mcr_rate_graph_parent_class)->map (widget);
  start_ticking (self);
}

static void
mcr_rate_graph_unmap (GtkWidget *widget)
{
  McrRateGraph *self = MCR_RATE_GRAPH (widget);

  g_clear_handle_id (&self->tick_id, g_source_remove);
  GTK_WIDGET_CLASS (mcr_rate_graph_parent_class)->unmap (widget);
}

static void
draw_series (cairo_t      *cr,
             McrRateGraph *self,
             const double *series,
             double        max,
             int           width,
             int           height)
{
  double step = (double) width / (N_SAMPLES - 1);

  for (guint i = 0; i < N_SAMPLES; i++)
    {
      /* oldest on the left */
      guint index = (self->head + 1 + i) % N_SAMPLES;
      double x = i * step;
      double y = height - 1 - (series[index] / max) * (height - 2);

      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_stroke_preserve (cr);
  cairo_line_to (cr, width, height);
  cairo_line_to (cr, 0, height);
  cairo_close_path (cr);
}

static void
mcr_rate_graph_snapshot (GtkWidget   *widget,
                         GtkSnapshot *snapshot)
{
  McrRateGraph *self = MCR_RATE_GRAPH (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  double max = 1024; /* 1 kB/s full scale at least, so idle noise stays flat */
  cairo_t *cr;

  if (width <= 1 || height <= 1)
    return;
  for (guint i = 0; i < N_SAMPLES; i++)
    max = MAX (max, MAX (self->sent[i], self->received[i]));

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  cairo_set_line_width (cr, 1.5);

  cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 1.0); /* received: blue */
  draw_series (cr, self, self->received, max, width, height);
  cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 0.2);
  cairo_fill (cr);

  cairo_set_source_rgba (cr, 0.90, 0.38, 0.0, 1.0); /* sent: orange */
  draw_series (cr, self, self->sent, max, width, height);
  cairo_set_source_rgba (cr, 0.90, 0.38, 0.0, 0.15);
  cairo_fill (cr);

  cairo_destroy (cr);
}

static void
mcr_rate_graph_measure (GtkWidget      *widget,
                        GtkOrientation  orientation,
                        int             for_size,
                        int            *minimum,
                        int            *natural,
                        int            *minimum_baseline,
                        int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = 96;
  else
    *minimum = *natural = 28;
}

static void
mcr_rate_graph_dispose (GObject *object)
{
  McrRateGraph *self = MCR_RATE_GRAPH (object);

  g_clear_handle_id (&self->tick_id, g_source_remove);
  G_OBJECT_CLASS (mcr_rate_graph_parent_class)->dispose (object);
}

static void
mcr_rate_graph_class_init (McrRateGraphClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mcr_rate_graph_dispose;
  widget_class->map = mcr_rate_graph_map;
  widget_class->unmap = mcr_rate_graph_unmap;
  widget_class->snapshot = mcr_rate_graph_snapshot;
  widget_class->measure = mcr_rate_graph_measure;
  gtk_widget_class_set_css_name (widget_class, "mcr-rate-graph");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
mcr_rate_graph_init (McrRateGraph *self)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Transfer rate"), -1);
  mcr_rate_graph_update_tooltip (self);
}

GtkWidget *
mcr_rate_graph_new (void)
{
  return g_object_new (MCR_TYPE_RATE_GRAPH, NULL);
}

void
mcr_rate_graph_set_rates (McrRateGraph *self,
                          double        sent,
                          double        received)
{
  g_return_if_fail (MCR_IS_RATE_GRAPH (self));

  self->current_sent = MAX (sent, 0);
  self->current_received = MAX (received, 0);
  self->updated = g_get_monotonic_time ();
  mcr_rate_graph_update_tooltip (self);
  start_ticking (self);
}

void
mcr_rate_graph_clear (McrRateGraph *self)
{
  g_return_if_fail (MCR_IS_RATE_GRAPH (self));

  memset (self->sent, 0, sizeof self->sent);
  memset (self->received, 0, sizeof self->received);
  self->current_sent = self->current_received = 0;
  mcr_rate_graph_update_tooltip (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
