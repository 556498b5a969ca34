"""Open data feeds for journey planners, built from plain values: the static GTFS feed with Flex
(:mod:`api.feeds.gtfs_flex`) and GTFS-Realtime vehicle positions (:mod:`api.feeds.gtfs_rt`). The service
gathers those values (:mod:`api.services.feeds`); the routes (:mod:`api.routes.feeds`) and
``rufbus gtfs export`` serve what these modules build."""
