/* mcr-maps-page.c: the port maps of this session
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-maps-page"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-map-row.h"
#include "mcr-maps-page.h"

struct _McrMapsPage
{
  GtkBox              parent_instance;

  GtkStack           *content_stack;
  GtkListView        *list_view;
  GtkLabel           *summary_label;

  GListModel         *maps;
  GtkSingleSelection *selection;
};

G_DEFINE_FINAL_TYPE (McrMapsPage, mcr_maps_page, GTK_TYPE_BOX)

enum
{
  SIGNAL_OPEN_MAP,
  SIGNAL_REMOVE_MAP,
  SIGNAL_SET_MAP_ENABLED,
  SIGNAL_WAKE_MAP,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
update_state (McrMapsPage *self)
{
  guint n = self->maps != NULL ? g_list_model_get_n_items (self->maps) : 0;
  g_autofree char *summary = NULL;

  gtk_stack_set_visible_child_name (self->content_stack, n > 0 ? "list" : "empty");
  summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u map", "%u maps", n), n);
  gtk_label_set_text (self->summary_label, n > 0 ? summary : "");
}

static void
on_maps_changed (GListModel  *model,
                 guint        position,
                 guint        removed,
                 guint        added,
                 McrMapsPage *self)
{
  update_state (self);
}

static void
on_row_open (McrMapRow   *row,
             McrMapsPage *self)
{
  if (mcr_map_row_get_map (row) != NULL)
    g_signal_emit (self, signals[SIGNAL_OPEN_MAP], 0, mcr_map_row_get_map (row));
}

static void
on_row_remove (McrMapRow   *row,
               McrMapsPage *self)
{
  if (mcr_map_row_get_map (row) != NULL)
    g_signal_emit (self, signals[SIGNAL_REMOVE_MAP], 0, mcr_map_row_get_map (row));
}

static void
on_row_set_enabled (McrMapRow   *row,
                    gboolean     enabled,
                    McrMapsPage *self)
{
  if (mcr_map_row_get_map (row) != NULL)
    g_signal_emit (self, signals[SIGNAL_SET_MAP_ENABLED], 0, mcr_map_row_get_map (row), enabled);
}

static void
on_row_wake (McrMapRow   *row,
             McrMapsPage *self)
{
  if (mcr_map_row_get_map (row) != NULL)
    g_signal_emit (self, signals[SIGNAL_WAKE_MAP], 0, mcr_map_row_get_map (row));
}

static void
on_list_activate (McrMapsPage *self,
                  guint        position)
{
  g_autoptr(McrPortMap) map = g_list_model_get_item (G_LIST_MODEL (self->selection), position);

  if (map != NULL)
    g_signal_emit (self, signals[SIGNAL_OPEN_MAP], 0, map);
}

static void
setup_row (GtkListItemFactory *factory,
           GtkListItem        *item,
           McrMapsPage        *self)
{
  GtkWidget *row = mcr_map_row_new ();

  g_signal_connect_object (row, "open", G_CALLBACK (on_row_open), self, 0);
  g_signal_connect_object (row, "remove", G_CALLBACK (on_row_remove), self, 0);
  g_signal_connect_object (row, "set-enabled", G_CALLBACK (on_row_set_enabled), self, 0);
  g_signal_connect_object (row, "wake", G_CALLBACK (on_row_wake), self, 0);
  gtk_list_item_set_child (item, row);
}

static void
bind_row (GtkListItemFactory *factory,
          GtkListItem        *item,
          gpointer            user_data)
{
  mcr_map_row_set_map (MCR_MAP_ROW (gtk_list_item_get_child (item)),
                       gtk_list_item_get_item (item));
}

static void
unbind_row (GtkListItemFactory *factory,
            GtkListItem        *item,
            gpointer            user_data)
{
  mcr_map_row_set_map (MCR_MAP_ROW (gtk_list_item_get_child (item)), NULL);
}

static void
remove_selected_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  McrMapsPage *self = MCR_MAPS_PAGE (widget);
  McrPortMap *map = mcr_maps_page_get_selected_map (self);

  if (map != NULL)
    g_signal_emit (self, signals[SIGNAL_REMOVE_MAP], 0, map);
}

static void
mcr_maps_page_dispose (GObject *object)
{
  McrMapsPage *self = MCR_MAPS_PAGE (object);

  mcr_maps_page_set_maps (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_MAPS_PAGE);
  g_clear_object (&self->selection);
  G_OBJECT_CLASS (mcr_maps_page_parent_class)->dispose (object);
}

static void
mcr_maps_page_class_init (McrMapsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mcr_maps_page_dispose;

  signals[SIGNAL_OPEN_MAP] = g_signal_new ("open-map", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 1, MCR_TYPE_PORT_MAP);
  signals[SIGNAL_REMOVE_MAP] = g_signal_new ("remove-map", G_TYPE_FROM_CLASS (klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                             G_TYPE_NONE, 1, MCR_TYPE_PORT_MAP);
  signals[SIGNAL_SET_MAP_ENABLED] = g_signal_new ("set-map-enabled", G_TYPE_FROM_CLASS (klass),
                                                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                  G_TYPE_NONE, 2, MCR_TYPE_PORT_MAP,
                                                  G_TYPE_BOOLEAN);
  signals[SIGNAL_WAKE_MAP] = g_signal_new ("wake-map", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 1, MCR_TYPE_PORT_MAP);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-maps-page.ui");
  gtk_widget_class_bind_template_child (widget_class, McrMapsPage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, McrMapsPage, list_view);
  gtk_widget_class_bind_template_child (widget_class, McrMapsPage, summary_label);

  gtk_widget_class_install_action (widget_class, "maps.remove-selected", NULL,
                                   remove_selected_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0,
                                       "maps.remove-selected", NULL);
}

static void
mcr_maps_page_init (McrMapsPage *self)
{
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->list_view, "activate", G_CALLBACK (on_list_activate), self);

  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row), self);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);
  update_state (self);
}

GtkWidget *
mcr_maps_page_new (void)
{
  return g_object_new (MCR_TYPE_MAPS_PAGE, NULL);
}

void
mcr_maps_page_set_maps (McrMapsPage *self,
                        GListModel  *maps)
{
  g_return_if_fail (MCR_IS_MAPS_PAGE (self));

  if (self->maps == maps)
    return;
  if (self->maps != NULL)
    g_signal_handlers_disconnect_by_func (self->maps, on_maps_changed, self);
  g_set_object (&self->maps, maps);
  if (maps != NULL)
    g_signal_connect (maps, "items-changed", G_CALLBACK (on_maps_changed), self);
  if (self->selection != NULL)
    gtk_single_selection_set_model (self->selection, maps);
  if (self->content_stack != NULL)
    update_state (self);
}

McrPortMap *
mcr_maps_page_get_selected_map (McrMapsPage *self)
{
  g_return_val_if_fail (MCR_IS_MAPS_PAGE (self), NULL);
  return gtk_single_selection_get_selected_item (self->selection);
}

void
mcr_maps_page_select_map (McrMapsPage *self,
                          McrPortMap  *map)
{
  guint n;

  g_return_if_fail (MCR_IS_MAPS_PAGE (self));

  n = self->maps != NULL ? g_list_model_get_n_items (self->maps) : 0;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrPortMap) item = g_list_model_get_item (self->maps, i);

      if (item == map)
        {
          gtk_single_selection_set_selected (self->selection, i);
          return;
        }
    }
}
