/* mcr-devices-page.c: the user's devices, searchable, with a context menu
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * devices → filter (search, hide offline) → sort (name, or group then name)
 * → group headers → selection → list view. The engine's device list puts a
 * device back in its place when its name, group or online state changes, so
 * GTK's filter and sort models look at that one device again; nothing here
 * walks the whole list when one device changes. The online count is a
 * filter model of its own, kept up to date the same way.
 */
#define G_LOG_DOMAIN "mcr-devices-page"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mcr-device.h"
#include "mcr-device-row.h"
#include "mcr-device-sections.h"
#include "mcr-devices-page.h"

struct _McrDevicesPage
{
  GtkBox              parent_instance;

  GtkSearchEntry     *search_entry;
  GtkStack           *content_stack;
  GtkListView        *list_view;
  GtkLabel           *empty_title;
  GtkLabel           *empty_description;
  GtkImage           *empty_image;
  GtkLabel           *count_label;
  GtkSpinner         *loading_spinner;
  GMenuModel         *device_menu;

  GSettings          *settings;
  GListModel         *devices;
  GtkFilterListModel *online_model;  /* the online devices: their count */
  GtkCustomFilter    *filter;
  GtkFilterListModel *filter_model;
  GtkSorter          *by_name;
  GtkSorter          *by_group_sorter;
  GtkSortListModel   *sort_model;
  McrDeviceSections  *sections;
  GtkSingleSelection *selection;
  GtkWidget          *popover;
  char               *search;        /* casefolded */
  gboolean            loading;
  gboolean            hide_offline;
  gboolean            by_group;
};

G_DEFINE_FINAL_TYPE (McrDevicesPage, mcr_devices_page, GTK_TYPE_BOX)

enum
{
  PROP_0,
  PROP_SELECTED_DEVICE,
  N_PROPS
};

enum
{
  SIGNAL_DEVICE_ACTIVATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
on_selected_changed (McrDevicesPage *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_DEVICE]);
}

static void
mcr_devices_page_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  McrDevicesPage *self = MCR_DEVICES_PAGE (object);

  switch (prop_id)
    {
    case PROP_SELECTED_DEVICE:
      g_value_set_object (value, mcr_devices_page_get_selected_device (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* What a search looks in, casefolded once per device (and again only when
 * its name or group name changed): "name\ngroup". A search is one line, so
 * it never matches across the two. */
typedef struct
{
  char *name;
  char *group;
  char *folded;
} SearchText;

static void
search_text_free (gpointer data)
{
  SearchText *text = data;

  g_free (text->name);
  g_free (text->group);
  g_free (text->folded);
  g_free (text);
}

static const char *
search_text (McrDevice *device)
{
  static GQuark quark;
  const char *name = mcr_device_get_name (device);
  const char *group = mcr_device_get_group_name (device);
  SearchText *text;

  if (quark == 0)
    quark = g_quark_from_static_string ("mcr-devices-page-search-text");
  name = name != NULL ? name : "";
  group = group != NULL ? group : "";
  text = g_object_get_qdata (G_OBJECT (device), quark);
  if (text == NULL || strcmp (text->name, name) != 0 || strcmp (text->group, group) != 0)
    {
      g_autofree char *joined = g_strconcat (name, "\n", group, NULL);

      text = g_new0 (SearchText, 1);
      text->name = g_strdup (name);
      text->group = g_strdup (group);
      text->folded = g_utf8_casefold (joined, -1);
      g_object_set_qdata_full (G_OBJECT (device), quark, text, search_text_free);
    }
  return text->folded;
}

static gboolean
filter_device (gpointer item,
               gpointer user_data)
{
  McrDevicesPage *self = user_data;
  McrDevice *device = MCR_DEVICE (item);

  if (self->hide_offline && !mcr_device_get_online (device))
    return FALSE;
  if (self->search == NULL)
    return TRUE;
  return strstr (search_text (device), self->search) != NULL;
}

static GtkSorter *
string_sorter (const char *property)
{
  GtkStringSorter *sorter =
    gtk_string_sorter_new (gtk_property_expression_new (MCR_TYPE_DEVICE, NULL, property));

  gtk_string_sorter_set_ignore_case (sorter, TRUE);
  return GTK_SORTER (sorter);
}

/* Name (then id, so that equal names keep one order); or group, name, id.
 * String sorters hand the sort model a collation key per device, made once
 * when the device comes in, not at each comparison. */
static GtkSorter *
devices_sorter (gboolean by_group)
{
  GtkMultiSorter *sorter = gtk_multi_sorter_new ();

  if (by_group)
    gtk_multi_sorter_append (sorter, string_sorter ("group-name"));
  gtk_multi_sorter_append (sorter, string_sorter ("name"));
  gtk_multi_sorter_append (sorter, string_sorter ("id"));
  return GTK_SORTER (sorter);
}

static void
update_state (McrDevicesPage *self)
{
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filter_model));
  guint total = self->devices != NULL ? g_list_model_get_n_items (self->devices) : 0;
  guint online = g_list_model_get_n_items (G_LIST_MODEL (self->online_model));
  g_autofree char *count = NULL;
  g_autofree char *no_match = NULL;

  if (self->search != NULL)
    /* Translators: a search shows some of the devices: "10 of 20,000 devices" */
    count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%'u of %'u device",
                                          "%'u of %'u devices", total),
                             shown, total);
  else
    /* Translators: "3 devices, 2 online" */
    count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%'u device, %'u online",
                                          "%'u devices, %'u online", total),
                             total, online);
  gtk_label_set_text (self->count_label, total > 0 ? count : "");
  /* A spinner spins (and the frame clock ticks) only while it is seen. */
  gtk_spinner_set_spinning (self->loading_spinner, self->loading);

  if (self->loading)
    {
      gtk_stack_set_visible_child_name (self->content_stack, "loading");
      return;
    }
  if (shown > 0)
    {
      gtk_stack_set_visible_child_name (self->content_stack, "list");
      return;
    }

  if (self->search != NULL)
    {
      no_match = g_strdup_printf (_("No device or group matches “%s”."),
                                  gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
      gtk_image_set_from_icon_name (self->empty_image, "system-search-symbolic");
      gtk_label_set_text (self->empty_title, _("No Results"));
      gtk_label_set_text (self->empty_description, no_match);
    }
  else if (total > 0)
    {
      gtk_image_set_from_icon_name (self->empty_image, "network-offline-symbolic");
      gtk_label_set_text (self->empty_title, _("No Online Devices"));
      gtk_label_set_text (self->empty_description,
                          _("All your devices are offline. Show offline devices in the view options."));
    }
  else
    {
      gtk_image_set_from_icon_name (self->empty_image, "computer-symbolic");
      gtk_label_set_text (self->empty_title, _("No Devices"));
      gtk_label_set_text (self->empty_description,
                          _("Your account has no devices. Install the mesh agent on a computer "
                            "and it appears here."));
    }
  gtk_stack_set_visible_child_name (self->content_stack, "empty");
}

static void
on_devices_changed (GListModel     *model,
                    guint           position,
                    guint           removed,
                    guint           added,
                    McrDevicesPage *self)
{
  update_state (self);
}

/* The list opens at its top, and a search shows its first matches: the
 * list view otherwise keeps the row it showed in sight, wherever it went. */
static void
scroll_to_top (McrDevicesPage *self)
{
  /* (GtkListView warns when asked to scroll an empty list.) */
  if (g_list_model_get_n_items (G_LIST_MODEL (self->sections)) > 0)
    gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", 0);
}

static void
on_shown_changed (GListModel     *model,
                  guint           position,
                  guint           removed,
                  guint           added,
                  McrDevicesPage *self)
{
  update_state (self);
}

static void
on_search_changed (McrDevicesPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  g_autofree char *old = g_steal_pointer (&self->search);
  GtkFilterChange change = GTK_FILTER_CHANGE_DIFFERENT;

  if (*stripped != '\0')
    self->search = g_utf8_casefold (stripped, -1);
  if (g_strcmp0 (old, self->search) == 0)
    return;
  /* Typing on narrows the matches: only those shown are looked at again. */
  if (self->search != NULL && (old == NULL || strstr (self->search, old) != NULL))
    change = GTK_FILTER_CHANGE_MORE_STRICT;
  else if (old != NULL && (self->search == NULL || strstr (old, self->search) != NULL))
    change = GTK_FILTER_CHANGE_LESS_STRICT;
  gtk_filter_changed (GTK_FILTER (self->filter), change);
  scroll_to_top (self);
  update_state (self);
}

static void
on_stop_search (McrDevicesPage *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
}

static void
on_list_activate (McrDevicesPage *self,
                  guint           position)
{
  g_autoptr(GObject) item = g_list_model_get_item (G_LIST_MODEL (self->sections), position);

  if (item == NULL || GTK_IS_STRING_OBJECT (item))
    return;
  gtk_single_selection_set_selected (self->selection, position);
  g_signal_emit (self, signals[SIGNAL_DEVICE_ACTIVATED], 0, item);
}

static void
on_setting_changed (GSettings      *settings,
                    const char     *key,
                    McrDevicesPage *self)
{
  g_autofree char *sort_by = g_settings_get_string (settings, "sort-by");

  gboolean hide_offline = g_settings_get_boolean (settings, "hide-offline");
  gboolean by_group = g_str_equal (sort_by, "group");

  if (hide_offline != self->hide_offline || key == NULL)
    {
      GtkFilterChange change = hide_offline ? GTK_FILTER_CHANGE_MORE_STRICT
                                            : GTK_FILTER_CHANGE_LESS_STRICT;

      self->hide_offline = hide_offline;
      gtk_filter_changed (GTK_FILTER (self->filter), change);
    }
  if (by_group != self->by_group || key == NULL)
    {
      self->by_group = by_group;
      gtk_sort_list_model_set_sorter (self->sort_model, by_group ? self->by_group_sorter
                                                                 : self->by_name);
      mcr_device_sections_set_headers (self->sections, self->by_group);
    }
  scroll_to_top (self);
  update_state (self);
}

static void
setup_row (GtkListItemFactory *factory,
           GtkListItem        *item,
           gpointer            user_data)
{
  gtk_list_item_set_child (item, mcr_device_row_new ());
}

static void
bind_row (GtkListItemFactory *factory,
          GtkListItem        *item,
          McrDevicesPage     *self)
{
  McrDeviceRow *row = MCR_DEVICE_ROW (gtk_list_item_get_child (item));
  GObject *object = gtk_list_item_get_item (item);
  gboolean header = GTK_IS_STRING_OBJECT (object);

  mcr_device_row_set_show_group (row, !self->by_group);
  mcr_device_row_set_item (row, object);
  gtk_list_item_set_selectable (item, !header);
  gtk_list_item_set_activatable (item, !header);
}

static void
unbind_row (GtkListItemFactory *factory,
            GtkListItem        *item,
            gpointer            user_data)
{
  mcr_device_row_set_item (MCR_DEVICE_ROW (gtk_list_item_get_child (item)), NULL);
}

static void
popup_menu_at (McrDevicesPage *self,
               double          x,
               double          y)
{
  GdkRectangle rect = { (int) x, (int) y, 1, 1 };

  if (self->popover == NULL)
    {
      self->popover = gtk_popover_menu_new_from_model (self->device_menu);
      gtk_widget_set_parent (self->popover, GTK_WIDGET (self));
      gtk_popover_set_has_arrow (GTK_POPOVER (self->popover), FALSE);
      gtk_widget_set_halign (self->popover, GTK_ALIGN_START);
    }
  gtk_popover_set_pointing_to (GTK_POPOVER (self->popover), &rect);
  gtk_popover_popup (GTK_POPOVER (self->popover));
}

static McrDeviceRow *
row_at (GtkWidget *widget)
{
  while (widget != NULL && !MCR_IS_DEVICE_ROW (widget))
    widget = gtk_widget_get_parent (widget);
  return widget != NULL ? MCR_DEVICE_ROW (widget) : NULL;
}

static void
on_right_click (GtkGestureClick *gesture,
                int              n_press,
                double           x,
                double           y,
                McrDevicesPage  *self)
{
  GtkWidget *picked = gtk_widget_pick (GTK_WIDGET (self->list_view), x, y, GTK_PICK_DEFAULT);
  McrDeviceRow *row = row_at (picked);
  GObject *device = row != NULL ? mcr_device_row_get_item (row) : NULL;
  graphene_point_t point;

  if (device == NULL || GTK_IS_STRING_OBJECT (device))
    return;
  mcr_devices_page_select_device (self, device);
  if (!gtk_widget_compute_point (GTK_WIDGET (self->list_view), GTK_WIDGET (self),
                                 &GRAPHENE_POINT_INIT (x, y), &point))
    return;
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  popup_menu_at (self, point.x, point.y);
}

/* Menu key or Shift+F10: the menu of the selected device, below its row. */
static void
context_menu_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  McrDevicesPage *self = MCR_DEVICES_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  McrDeviceRow *row = NULL;
  graphene_rect_t bounds;

  if (focus != NULL && gtk_widget_is_ancestor (focus, GTK_WIDGET (self->list_view)))
    {
      GtkWidget *child = gtk_widget_get_first_child (focus);

      row = MCR_IS_DEVICE_ROW (child) ? MCR_DEVICE_ROW (child) : row_at (focus);
    }
  if (row != NULL && mcr_device_row_get_item (row) != NULL
      && !GTK_IS_STRING_OBJECT (mcr_device_row_get_item (row)))
    mcr_devices_page_select_device (self, mcr_device_row_get_item (row));
  if (mcr_devices_page_get_selected_device (self) == NULL)
    return;
  if (row != NULL && gtk_widget_compute_bounds (GTK_WIDGET (row), GTK_WIDGET (self), &bounds))
    popup_menu_at (self, bounds.origin.x + 24, bounds.origin.y + bounds.size.height);
  else
    popup_menu_at (self, 24, 48);
}

static void
focus_search_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  mcr_devices_page_focus_search (MCR_DEVICES_PAGE (widget));
}

static void
mcr_devices_page_dispose (GObject *object)
{
  McrDevicesPage *self = MCR_DEVICES_PAGE (object);

  mcr_devices_page_set_devices (self, NULL);
  g_clear_pointer (&self->popover, gtk_widget_unparent);
  if (self->sections != NULL)
    g_signal_handlers_disconnect_by_func (self->sections, on_shown_changed, self);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_func (self->settings, on_setting_changed, self);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_func (self->selection, on_selected_changed, self);
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_DEVICES_PAGE);
  g_clear_object (&self->selection);
  g_clear_object (&self->sections);
  g_clear_object (&self->online_model);
  g_clear_object (&self->by_name);
  g_clear_object (&self->by_group_sorter);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mcr_devices_page_parent_class)->dispose (object);
}

static void
mcr_devices_page_finalize (GObject *object)
{
  McrDevicesPage *self = MCR_DEVICES_PAGE (object);

  g_clear_pointer (&self->search, g_free);
  G_OBJECT_CLASS (mcr_devices_page_parent_class)->finalize (object);
}

static void
mcr_devices_page_class_init (McrDevicesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = mcr_devices_page_get_property;
  object_class->dispose = mcr_devices_page_dispose;
  object_class->finalize = mcr_devices_page_finalize;

  properties[PROP_SELECTED_DEVICE] =
    g_param_spec_object ("selected-device", NULL, NULL, G_TYPE_OBJECT,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_DEVICE_ACTIVATED] =
    g_signal_new ("device-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_OBJECT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-devices-page.ui");
  gtk_widget_class_bind_template_child (widget_class, McrDevicesPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, McrDevicesPage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, McrDevicesPage, list_view);
  gtk_widget_class_bind_template_child (widget_class, McrDevicesPage, empty_title);
  gtk_widget_class_bind_template_child (widget_class, McrDevicesPage, empty_description);
  gtk_widget_class_bind_template_child (widget_class, McrDevicesPage, empty_image);
  gtk_widget_class_bind_template_child (widget_class, McrDevicesPage, count_label);
  gtk_widget_class_bind_template_child (widget_class, McrDevicesPage, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, McrDevicesPage, device_menu);

  gtk_widget_class_install_action (widget_class, "devices.context-menu", NULL,
                                   context_menu_action);
  gtk_widget_class_install_action (widget_class, "devices.focus-search", NULL,
                                   focus_search_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Menu, 0,
                                       "devices.context-menu", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK,
                                       "devices.context-menu", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK,
                                       "devices.focus-search", NULL);
}

static void
mcr_devices_page_init (McrDevicesPage *self)
{
  g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
  g_autoptr(GAction) hide_offline = NULL;
  g_autoptr(GAction) sort_by = NULL;
  GtkListItemFactory *factory;
  GtkGesture *click;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (on_search_changed), self);
  g_signal_connect_swapped (self->search_entry, "stop-search", G_CALLBACK (on_stop_search), self);
  g_signal_connect_swapped (self->list_view, "activate", G_CALLBACK (on_list_activate), self);
  self->settings = g_settings_new (APP_ID);

  hide_offline = g_settings_create_action (self->settings, "hide-offline");
  sort_by = g_settings_create_action (self->settings, "sort-by");
  g_action_map_add_action (G_ACTION_MAP (group), hide_offline);
  g_action_map_add_action (G_ACTION_MAP (group), sort_by);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "devices", G_ACTION_GROUP (group));

  self->online_model =
    gtk_filter_list_model_new (NULL, GTK_FILTER (gtk_bool_filter_new (
                                 gtk_property_expression_new (MCR_TYPE_DEVICE, NULL, "online"))));
  self->filter = gtk_custom_filter_new (filter_device, self, NULL);
  self->filter_model = gtk_filter_list_model_new (NULL, GTK_FILTER (self->filter));
  self->by_name = devices_sorter (FALSE);
  self->by_group_sorter = devices_sorter (TRUE);
  self->sort_model = gtk_sort_list_model_new (G_LIST_MODEL (self->filter_model),
                                              g_object_ref (self->by_name));
  self->sections = mcr_device_sections_new (G_LIST_MODEL (self->sort_model));
  g_object_unref (self->sort_model); /* owned by the sections model now */
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->sections)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect (self->sections, "items-changed", G_CALLBACK (on_shown_changed), self);
  g_signal_connect_swapped (self->selection, "notify::selected-item",
                            G_CALLBACK (on_selected_changed), self);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row), self);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect (click, "pressed", G_CALLBACK (on_right_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self->list_view), GTK_EVENT_CONTROLLER (click));

  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self));
  g_signal_connect (self->settings, "changed::hide-offline", G_CALLBACK (on_setting_changed), self);
  g_signal_connect (self->settings, "changed::sort-by", G_CALLBACK (on_setting_changed), self);
  on_setting_changed (self->settings, NULL, self);
}

GtkWidget *
mcr_devices_page_new (void)
{
  return g_object_new (MCR_TYPE_DEVICES_PAGE, NULL);
}

void
mcr_devices_page_set_devices (McrDevicesPage *self,
                              GListModel     *devices)
{
  g_return_if_fail (MCR_IS_DEVICES_PAGE (self));

  if (self->devices == devices)
    return;
  if (self->devices != NULL)
    g_signal_handlers_disconnect_by_func (self->devices, on_devices_changed, self);
  g_set_object (&self->devices, devices);
  if (self->filter_model != NULL)
    {
      gtk_filter_list_model_set_model (self->online_model, devices);
      gtk_filter_list_model_set_model (self->filter_model, devices);
    }
  if (devices != NULL)
    g_signal_connect (devices, "items-changed", G_CALLBACK (on_devices_changed), self);
  if (self->count_label != NULL)
    {
      scroll_to_top (self);
      update_state (self);
    }
}

void
mcr_devices_page_set_loading (McrDevicesPage *self,
                              gboolean        loading)
{
  g_return_if_fail (MCR_IS_DEVICES_PAGE (self));
  if (self->loading && !loading)
    scroll_to_top (self);
  self->loading = !!loading;
  update_state (self);
}

GObject *
mcr_devices_page_get_selected_device (McrDevicesPage *self)
{
  GObject *item;

  g_return_val_if_fail (MCR_IS_DEVICES_PAGE (self), NULL);

  item = gtk_single_selection_get_selected_item (self->selection);
  if (item == NULL || GTK_IS_STRING_OBJECT (item))
    return NULL;
  return item;
}

gboolean
mcr_devices_page_select_device (McrDevicesPage *self,
                                GObject        *device)
{
  guint n;

  g_return_val_if_fail (MCR_IS_DEVICES_PAGE (self), FALSE);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->sections));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (G_LIST_MODEL (self->sections), i);

      if (item == device)
        {
          gtk_single_selection_set_selected (self->selection, i);
          return TRUE;
        }
    }
  return FALSE;
}

GListModel *
mcr_devices_page_get_shown_model (McrDevicesPage *self)
{
  g_return_val_if_fail (MCR_IS_DEVICES_PAGE (self), NULL);
  return G_LIST_MODEL (self->sections);
}

void
mcr_devices_page_focus_search (McrDevicesPage *self)
{
  g_return_if_fail (MCR_IS_DEVICES_PAGE (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}
