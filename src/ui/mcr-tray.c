/* mcr-tray.c: the tray icon, a StatusNotifierItem with its menu
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The StatusNotifierItem protocol (freedesktop.org, as KDE Plasma, XFCE,
 * Cinnamon, MATE, Budgie and GNOME's AppIndicator extension speak it): the
 * item is an object on our connection, registered by its path with
 * org.kde.StatusNotifierWatcher, which the panel owns; its Menu property
 * names a com.canonical.dbusmenu object that the panel reads (GetLayout)
 * and clicks (Event "clicked"). No libappindicator: GDBus is enough.
 *
 * The menu is built from the session's maps each time it is asked for; a
 * new revision is announced (LayoutUpdated) when the maps or their states
 * change. Each map keeps its pair of ids for as long as it lives.
 */
#define G_LOG_DOMAIN "mcr-tray"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-map-row.h"
#include "mcr-tray.h"

#define WATCHER_NAME      "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH      "/StatusNotifierWatcher"
#define WATCHER_INTERFACE "org.kde.StatusNotifierWatcher"
#define ITEM_INTERFACE    "org.kde.StatusNotifierItem"
#define MENU_INTERFACE    "com.canonical.dbusmenu"
#define MAP_ID_KEY        "mcr-tray-id"

struct _McrTray
{
  GObject          parent_instance;

  GApplication    *application;   /* not owned: it owns us */
  McrSession      *session;
  GDBusConnection *connection;
  guint            item_id;       /* registration ids of the two objects */
  guint            menu_id;
  guint            watch_id;
  GCancellable    *cancellable;
  guint            revision;
  int              next_map_id;
  gboolean         registered;
  gboolean         paused;        /* Pause All Maps stopped them */
};

enum
{
  PROP_0,
  PROP_REGISTERED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (McrTray, mcr_tray, G_TYPE_OBJECT)

static const char introspection_xml[] =
  "<node>"
  " <interface name='org.kde.StatusNotifierItem'>"
  "  <property name='Category' type='s' access='read'/>"
  "  <property name='Id' type='s' access='read'/>"
  "  <property name='Title' type='s' access='read'/>"
  "  <property name='Status' type='s' access='read'/>"
  "  <property name='WindowId' type='i' access='read'/>"
  "  <property name='IconName' type='s' access='read'/>"
  "  <property name='IconPixmap' type='a(iiay)' access='read'/>"
  "  <property name='OverlayIconName' type='s' access='read'/>"
  "  <property name='AttentionIconName' type='s' access='read'/>"
  "  <property name='ToolTip' type='(sa(iiay)ss)' access='read'/>"
  "  <property name='ItemIsMenu' type='b' access='read'/>"
  "  <property name='Menu' type='o' access='read'/>"
  "  <method name='ContextMenu'><arg name='x' type='i'/><arg name='y' type='i'/></method>"
  "  <method name='Activate'><arg name='x' type='i'/><arg name='y' type='i'/></method>"
  "  <method name='SecondaryActivate'><arg name='x' type='i'/><arg name='y' type='i'/></method>"
  "  <method name='Scroll'><arg name='delta' type='i'/><arg name='orientation' type='s'/></method>"
  "  <signal name='NewTitle'/>"
  "  <signal name='NewIcon'/>"
  "  <signal name='NewToolTip'/>"
  "  <signal name='NewStatus'><arg name='status' type='s'/></signal>"
  " </interface>"
  " <interface name='com.canonical.dbusmenu'>"
  "  <property name='Version' type='u' access='read'/>"
  "  <property name='TextDirection' type='s' access='read'/>"
  "  <property name='Status' type='s' access='read'/>"
  "  <property name='IconThemePath' type='as' access='read'/>"
  "  <method name='GetLayout'>"
  "   <arg name='parentId' type='i' direction='in'/>"
  "   <arg name='recursionDepth' type='i' direction='in'/>"
  "   <arg name='propertyNames' type='as' direction='in'/>"
  "   <arg name='revision' type='u' direction='out'/>"
  "   <arg name='layout' type='(ia{sv}av)' direction='out'/>"
  "  </method>"
  "  <method name='GetGroupProperties'>"
  "   <arg name='ids' type='ai' direction='in'/>"
  "   <arg name='propertyNames' type='as' direction='in'/>"
  "   <arg name='properties' type='a(ia{sv})' direction='out'/>"
  "  </method>"
  "  <method name='GetProperty'>"
  "   <arg name='id' type='i' direction='in'/>"
  "   <arg name='name' type='s' direction='in'/>"
  "   <arg name='value' type='v' direction='out'/>"
  "  </method>"
  "  <method name='Event'>"
  "   <arg name='id' type='i' direction='in'/>"
  "   <arg name='eventId' type='s' direction='in'/>"
  "   <arg name='data' type='v' direction='in'/>"
  "   <arg name='timestamp' type='u' direction='in'/>"
  "  </method>"
  "  <method name='EventGroup'>"
  "   <arg name='events' type='a(isvu)' direction='in'/>"
  "   <arg name='idErrors' type='ai' direction='out'/>"
  "  </method>"
  "  <method name='AboutToShow'>"
  "   <arg name='id' type='i' direction='in'/>"
  "   <arg name='needUpdate' type='b' direction='out'/>"
  "  </method>"
  "  <method name='AboutToShowGroup'>"
  "   <arg name='ids' type='ai' direction='in'/>"
  "   <arg name='updatesNeeded' type='ai' direction='out'/>"
  "   <arg name='idErrors' type='ai' direction='out'/>"
  "  </method>"
  "  <signal name='ItemsPropertiesUpdated'>"
  "   <arg name='updatedProps' type='a(ia{sv})'/>"
  "   <arg name='removedProps' type='a(ias)'/>"
  "  </signal>"
  "  <signal name='LayoutUpdated'>"
  "   <arg name='revision' type='u'/>"
  "   <arg name='parent' type='i'/>"
  "  </signal>"
  "  <signal name='ItemActivationRequested'>"
  "   <arg name='id' type='i'/>"
  "   <arg name='timestamp' type='u'/>"
  "  </signal>"
  " </interface>"
  "</node>";

/* ---- the menu ---------------------------------------------------------- */

/* @text as a dbusmenu label shows it: "_" marks an access key there. */
static char *
escape_label (const char *text)
{
  g_auto(GStrv) parts = g_strsplit (text, "_", -1);

  return g_strjoinv ("__", parts);
}

/* The submenu id of @map: given the first time it is asked for. */
static int
map_id (McrTray    *self,
        McrPortMap *map)
{
  int id = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (map), MAP_ID_KEY));

  if (id == 0)
    {
      id = self->next_map_id;
      self->next_map_id += 2;
      g_object_set_data (G_OBJECT (map), MAP_ID_KEY, GINT_TO_POINTER (id));
    }
  return id;
}

/* The map whose submenu is @id or whose Open item is @id (*@open set). */
static McrPortMap *
find_map (McrTray  *self,
          int       id,
          gboolean *open)
{
  GListModel *maps = mcr_session_get_maps (self->session);
  guint n = g_list_model_get_n_items (maps);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);
      int base = map_id (self, map);

      if (id == base || id == base + 1)
        {
          *open = id == base + 1;
          return map;   /* the session still holds it */
        }
    }
  return NULL;
}

static gboolean
any_map_active (McrTray *self)
{
  return mcr_session_get_n_active_maps (self->session) > 0;
}

/* The properties of item @id, with only @names when it is not empty. */
static GVariant *
item_properties (McrTray            *self,
                 int                 id,
                 const char *const  *names)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autofree char *label = NULL;
  const char *type = NULL;
  const char *icon = NULL;
  gboolean enabled = TRUE;
  gboolean submenu = FALSE;
  gboolean open = FALSE;
  McrPortMap *map;

  switch (id)
    {
    case MCR_TRAY_ID_ROOT:
      submenu = TRUE;
      break;
    case MCR_TRAY_ID_SHOW_WINDOW:
      label = g_strdup (_("_Show Window"));
      break;
    case MCR_TRAY_ID_PAUSE:
      label = g_strdup (self->paused ? _("_Resume All Maps") : _("_Pause All Maps"));
      enabled = self->paused || any_map_active (self);
      icon = self->paused ? "media-playback-start-symbolic" : "media-playback-pause-symbolic";
      break;
    case MCR_TRAY_ID_QUIT:
      label = g_strdup (_("_Quit"));
      icon = "application-exit-symbolic";
      break;
    case MCR_TRAY_ID_QUIT + 1:
    case MCR_TRAY_ID_QUIT + 2:
      type = "separator";
      break;
    default:
      map = find_map (self, id, &open);
      if (map == NULL)
        return NULL;
      if (open)
        {
          label = g_strdup (_("_Open"));
          enabled = mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_LISTENING;
        }
      else
        {
          g_autofree char *title = mcr_map_describe_title (map);
          g_autofree char *text = NULL;

          /* Translators: a map in the tray menu: "PC1 (HTTP): Ready" */
          text = g_strdup_printf (_("%s: %s"), title, mcr_map_describe_state (map));
          label = escape_label (text);
          submenu = TRUE;
        }
      break;
    }

#define WANTED(name) (names == NULL || names[0] == NULL || g_strv_contains (names, name))
  if (type != NULL && WANTED ("type"))
    g_variant_builder_add (&b, "{sv}", "type", g_variant_new_string (type));
  if (label != NULL && WANTED ("label"))
    g_variant_builder_add (&b, "{sv}", "label", g_variant_new_string (label));
  if (icon != NULL && WANTED ("icon-name"))
    g_variant_builder_add (&b, "{sv}", "icon-name", g_variant_new_string (icon));
  if (!enabled && WANTED ("enabled"))
    g_variant_builder_add (&b, "{sv}", "enabled", g_variant_new_boolean (FALSE));
  if (submenu && WANTED ("children-display"))
    g_variant_builder_add (&b, "{sv}", "children-display", g_variant_new_string ("submenu"));
#undef WANTED
  return g_variant_builder_end (&b);
}

/* The ids of @id's children, in menu order. */
static GArray *
item_children (McrTray *self,
               int      id)
{
  GArray *children = g_array_new (FALSE, FALSE, sizeof (int));
  GListModel *maps = mcr_session_get_maps (self->session);
  guint n = g_list_model_get_n_items (maps);
  gboolean open;
  int child;

  if (id == MCR_TRAY_ID_ROOT)
    {
      child = MCR_TRAY_ID_SHOW_WINDOW;
      g_array_append_val (children, child);
      child = MCR_TRAY_ID_QUIT + 1;
      g_array_append_val (children, child);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);

          child = map_id (self, map);
          g_array_append_val (children, child);
        }
      if (n > 0)
        {
          child = MCR_TRAY_ID_PAUSE;
          g_array_append_val (children, child);
          child = MCR_TRAY_ID_QUIT + 2;
          g_array_append_val (children, child);
        }
      child = MCR_TRAY_ID_QUIT;
      g_array_append_val (children, child);
    }
  else if (id >= MCR_TRAY_ID_FIRST_MAP && find_map (self, id, &open) != NULL && !open)
    {
      child = id + 1;
      g_array_append_val (children, child);
    }
  return children;
}

/* (ia{sv}av) of @id and its children down to @depth levels (-1: all). */
static GVariant *
item_layout (McrTray            *self,
             int                 id,
             int                 depth,
             const char *const  *names)
{
  g_autoptr(GArray) children = NULL;
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  GVariant *props = item_properties (self, id, names);

  if (props == NULL)
    return NULL;
  if (depth != 0)
    {
      children = item_children (self, id);
      for (guint i = 0; i < children->len; i++)
        {
          GVariant *child = item_layout (self, g_array_index (children, int, i),
                                         depth < 0 ? -1 : depth - 1, names);

          if (child != NULL)
            g_variant_builder_add (&b, "v", child);
        }
    }
  return g_variant_new ("(i@a{sv}av)", id, props, &b);
}

static void
layout_changed (McrTray *self)
{
  self->revision++;
  if (self->connection != NULL && self->menu_id != 0)
    g_dbus_connection_emit_signal (self->connection, NULL, MCR_TRAY_MENU_PATH, MENU_INTERFACE,
                                   "LayoutUpdated", g_variant_new ("(ui)", self->revision, 0),
                                   NULL);
}

/* ---- what the items do --------------------------------------------------- */

static void
set_paused (McrTray  *self,
            gboolean  paused)
{
  GListModel *maps = mcr_session_get_maps (self->session);
  guint n = g_list_model_get_n_items (maps);

  g_debug ("%s every map", paused ? "pausing" : "resuming");
  self->paused = paused;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);
      g_autoptr(GError) error = NULL;

      if (paused)
        mcr_port_map_stop (map);
      else if (mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_STOPPED
               && !mcr_port_map_start (map, mcr_port_map_get_all_interfaces (map), &error))
        g_debug ("a paused map did not start again: %s", error->message);
    }
  layout_changed (self);
}

typedef struct
{
  McrTray *tray;
  int      id;
} Click;

/* After the reply has gone: Quit ends the process. */
static gboolean
click_idle (gpointer data)
{
  Click *click = data;
  McrTray *self = click->tray;
  gboolean open = FALSE;
  McrPortMap *map;

  switch (click->id)
    {
    case MCR_TRAY_ID_SHOW_WINDOW:
      g_action_group_activate_action (G_ACTION_GROUP (self->application), "show-window", NULL);
      break;
    case MCR_TRAY_ID_PAUSE:
      set_paused (self, !self->paused);
      break;
    case MCR_TRAY_ID_QUIT:
      g_action_group_activate_action (G_ACTION_GROUP (self->application), "quit", NULL);
      break;
    default:
      map = find_map (self, click->id, &open);
      if (map != NULL && open)
        {
          g_autoptr(GError) error = NULL;

          if (!mcr_session_open_map (self->session, map, NULL, &error))
            g_debug ("the tray menu could not open the map: %s", error->message);
        }
      break;
    }
  return G_SOURCE_REMOVE;
}

static void
click_free (gpointer data)
{
  Click *click = data;

  g_object_unref (click->tray);
  g_free (click);
}

static void
clicked (McrTray *self,
         int      id)
{
  Click *click = g_new0 (Click, 1);

  click->tray = g_object_ref (self);
  click->id = id;
  g_idle_add_full (G_PRIORITY_DEFAULT, click_idle, click, click_free);
}

/* ---- D-Bus --------------------------------------------------------------- */

static void
menu_method (McrTray               *self,
             const char            *method,
             GVariant              *parameters,
             GDBusMethodInvocation *invocation)
{
  if (g_str_equal (method, "GetLayout"))
    {
      g_autofree const char **names = NULL;
      GVariant *layout;
      int parent, depth;

      g_variant_get (parameters, "(ii^a&s)", &parent, &depth, &names);
      layout = item_layout (self, parent, depth, names);
      if (layout == NULL)
        g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                               "no menu item %d", parent);
      else
        g_dbus_method_invocation_return_value (invocation,
                                               g_variant_new ("(u@(ia{sv}av))", self->revision,
                                                              layout));
    }
  else if (g_str_equal (method, "GetGroupProperties"))
    {
      g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ia{sv})"));
      g_autoptr(GVariantIter) ids = NULL;
      g_autofree const char **names = NULL;
      int id;

      g_variant_get (parameters, "(ai^a&s)", &ids, &names);
      while (g_variant_iter_next (ids, "i", &id))
        {
          GVariant *props = item_properties (self, id, names);

          if (props != NULL)
            g_variant_builder_add (&b, "(i@a{sv})", id, props);
        }
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(ia{sv}))", &b));
    }
  else if (g_str_equal (method, "GetProperty"))
    {
      g_autoptr(GVariant) props = NULL;
      g_autoptr(GVariant) value = NULL;
      const char *name;
      int id;

      g_variant_get (parameters, "(i&s)", &id, &name);
      props = item_properties (self, id, NULL);
      if (props != NULL)
        value = g_variant_lookup_value (props, name, NULL);
      if (value == NULL)
        g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                               "no property %s of menu item %d", name, id);
      else
        g_dbus_method_invocation_return_value (invocation, g_variant_new ("(v)", value));
    }
  else if (g_str_equal (method, "Event"))
    {
      const char *event;
      int id;

      g_variant_get (parameters, "(i&svu)", &id, &event, NULL, NULL);
      if (g_str_equal (event, "clicked"))
        clicked (self, id);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "EventGroup"))
    {
      g_auto(GVariantBuilder) errors = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("ai"));
      g_autoptr(GVariantIter) events = NULL;
      const char *event;
      int id;

      g_variant_get (parameters, "(a(isvu))", &events);
      while (g_variant_iter_next (events, "(i&svu)", &id, &event, NULL, NULL))
        if (g_str_equal (event, "clicked"))
          clicked (self, id);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(ai)", &errors));
    }
  else if (g_str_equal (method, "AboutToShow"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(b)", FALSE));
  else if (g_str_equal (method, "AboutToShowGroup"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@ai@ai)",
                                                                      g_variant_new ("ai", NULL),
                                                                      g_variant_new ("ai", NULL)));
  else
    g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                           "no method %s", method);
}

static void
method_call (GDBusConnection       *connection,
             const char            *sender,
             const char            *path,
             const char            *interface,
             const char            *method,
             GVariant              *parameters,
             GDBusMethodInvocation *invocation,
             gpointer               user_data)
{
  McrTray *self = user_data;

  if (g_str_equal (interface, MENU_INTERFACE))
    {
      menu_method (self, method, parameters, invocation);
      return;
    }
  /* The item: a click on the icon shows the window; the panel shows the
   * menu itself. */
  if (g_str_equal (method, "Activate") || g_str_equal (method, "SecondaryActivate"))
    clicked (self, MCR_TRAY_ID_SHOW_WINDOW);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static GVariant *
get_property (GDBusConnection *connection,
              const char      *sender,
              const char      *path,
              const char      *interface,
              const char      *name,
              GError         **error,
              gpointer         user_data)
{
  if (g_str_equal (interface, MENU_INTERFACE))
    {
      if (g_str_equal (name, "Version"))
        return g_variant_new_uint32 (3);
      if (g_str_equal (name, "TextDirection"))
        return g_variant_new_string (gtk_widget_get_default_direction () == GTK_TEXT_DIR_RTL
                                     ? "rtl" : "ltr");
      if (g_str_equal (name, "Status"))
        return g_variant_new_string ("normal");
      if (g_str_equal (name, "IconThemePath"))
        return g_variant_new_strv (NULL, 0);
    }
  else
    {
      if (g_str_equal (name, "Category"))
        return g_variant_new_string ("ApplicationStatus");
      if (g_str_equal (name, "Id"))
        return g_variant_new_string (APP_ID);
      if (g_str_equal (name, "Title"))
        return g_variant_new_string (_("MeshCentral Router"));
      if (g_str_equal (name, "Status"))
        return g_variant_new_string ("Active");
      if (g_str_equal (name, "WindowId"))
        return g_variant_new_int32 (0);
      if (g_str_equal (name, "IconName"))
        return g_variant_new_string (APP_ID "-symbolic");
      if (g_str_equal (name, "IconPixmap"))
        return g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0);
      if (g_str_equal (name, "OverlayIconName") || g_str_equal (name, "AttentionIconName"))
        return g_variant_new_string ("");
      if (g_str_equal (name, "ToolTip"))
        return g_variant_new ("(s@a(iiay)ss)", APP_ID,
                              g_variant_new_array (G_VARIANT_TYPE ("(iiay)"), NULL, 0),
                              _("MeshCentral Router"), "");
      if (g_str_equal (name, "ItemIsMenu"))
        return g_variant_new_boolean (FALSE);
      if (g_str_equal (name, "Menu"))
        return g_variant_new_object_path (MCR_TRAY_MENU_PATH);
    }
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", name);
  return NULL;
}

static const GDBusInterfaceVTable vtable = { method_call, get_property, NULL, { 0 } };

static void
set_registered (McrTray  *self,
                gboolean  registered)
{
  if (self->registered == registered)
    return;
  self->registered = registered;
  g_debug ("the tray icon is %s", registered ? "shown by the panel" : "not shown");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGISTERED]);
}

static void
registered_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(McrTray) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("the StatusNotifierWatcher refused the tray icon: %s", error->message);
      return;
    }
  set_registered (self, TRUE);
}

static void
watcher_appeared (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  McrTray *self = user_data;

  g_debug ("a StatusNotifierWatcher (%s) is on the bus", owner);
  g_dbus_connection_call (connection, name, WATCHER_PATH, WATCHER_INTERFACE,
                          "RegisterStatusNotifierItem", g_variant_new ("(s)", MCR_TRAY_ITEM_PATH),
                          NULL, G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, registered_cb,
                          g_object_ref (self));
}

static void
watcher_vanished (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  set_registered (MCR_TRAY (user_data), FALSE);
}

/* ---- the maps ---------------------------------------------------------- */

static void
on_map_state (McrPortMap *map,
              GParamSpec *pspec,
              McrTray    *self)
{
  layout_changed (self);
}

static void
on_maps_changed (GListModel *maps,
                 guint       position,
                 guint       removed,
                 guint       added,
                 McrTray    *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);

      g_signal_connect_object (map, "notify::state", G_CALLBACK (on_map_state), self, 0);
    }
  if (g_list_model_get_n_items (maps) == 0)
    self->paused = FALSE;
  layout_changed (self);
}

/* ---- object ---------------------------------------------------------------- */

static void
mcr_tray_dispose (GObject *object)
{
  McrTray *self = MCR_TRAY (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->watch_id, g_bus_unwatch_name);
  if (self->connection != NULL)
    {
      if (self->item_id != 0)
        g_dbus_connection_unregister_object (self->connection, self->item_id);
      if (self->menu_id != 0)
        g_dbus_connection_unregister_object (self->connection, self->menu_id);
      self->item_id = self->menu_id = 0;
    }
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (mcr_session_get_maps (self->session), self);
  g_clear_object (&self->session);
  g_clear_object (&self->connection);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (mcr_tray_parent_class)->dispose (object);
}

static void
mcr_tray_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  McrTray *self = MCR_TRAY (object);

  switch (prop_id)
    {
    case PROP_REGISTERED:
      g_value_set_boolean (value, self->registered);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_tray_class_init (McrTrayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mcr_tray_dispose;
  object_class->get_property = mcr_tray_get_property;

  properties[PROP_REGISTERED] =
    g_param_spec_boolean ("registered", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mcr_tray_init (McrTray *self)
{
  self->cancellable = g_cancellable_new ();
  self->revision = 1;
  self->next_map_id = MCR_TRAY_ID_FIRST_MAP;
}

McrTray *
mcr_tray_new (GApplication *application,
              McrSession   *session)
{
  static GDBusNodeInfo *info;
  McrTray *self = g_object_new (MCR_TYPE_TRAY, NULL);
  GListModel *maps = mcr_session_get_maps (session);
  g_autoptr(GError) error = NULL;

  self->application = application;
  self->session = g_object_ref (session);
  g_signal_connect (maps, "items-changed", G_CALLBACK (on_maps_changed), self);
  on_maps_changed (maps, 0, 0, g_list_model_get_n_items (maps), self);

  self->connection = g_application_get_dbus_connection (application);
  if (self->connection == NULL)
    return self;   /* no session bus: no tray */
  g_object_ref (self->connection);
  if (info == NULL)
    info = g_dbus_node_info_new_for_xml (introspection_xml, NULL);
  self->item_id = g_dbus_connection_register_object (self->connection, MCR_TRAY_ITEM_PATH,
                                                     info->interfaces[0], &vtable, self, NULL,
                                                     &error);
  if (self->item_id != 0)
    self->menu_id = g_dbus_connection_register_object (self->connection, MCR_TRAY_MENU_PATH,
                                                       info->interfaces[1], &vtable, self, NULL,
                                                       &error);
  if (self->menu_id == 0)
    {
      g_debug ("no tray icon: %s", error->message);
      return self;
    }
  self->watch_id = g_bus_watch_name_on_connection (self->connection, WATCHER_NAME,
                                                   G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                   watcher_appeared, watcher_vanished, self,
                                                   NULL);
  return self;
}

gboolean
mcr_tray_get_registered (McrTray *self)
{
  g_return_val_if_fail (MCR_IS_TRAY (self), FALSE);
  return self->registered;
}
