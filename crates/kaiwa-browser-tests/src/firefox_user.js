// Fake camera and microphone, no permission prompt; loopback and plain host candidates for ICE on a
// machine whose only network may be `lo` (and which answers no mDNS `.local` names).
user_pref("media.navigator.streams.fake", true);
user_pref("media.navigator.permission.disabled", true);
user_pref("media.peerconnection.ice.loopback", true);
user_pref("media.peerconnection.ice.obfuscate_host_addresses", false);
user_pref("media.autoplay.default", 0);
// Never download OpenH264 or Widevine.
user_pref("media.gmp-manager.updateEnabled", false); user_pref("media.gmp-manager.url", "");
user_pref("media.gmp-widevinecdm.enabled", false);
// No first-run, welcome or default-browser pages.
user_pref("browser.shell.checkDefaultBrowser", false); user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.startup.page", 0); user_pref("browser.startup.homepage", "about:blank");
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("startup.homepage_welcome_url", "about:blank"); user_pref("browser.newtabpage.enabled", false);
user_pref("termsofuse.bypassNotification", true); user_pref("browser.sessionstore.resume_from_crash", false);
// No updates (app.update.enabled is gone in newer Firefox, which reads the next two), telemetry, studies,
// experiments, backups, or remote settings (see MOZ_REMOTE_SETTINGS_DEVTOOLS below).
user_pref("app.update.enabled", false);
user_pref("app.update.auto", false); user_pref("app.update.disabledForTesting", true);
user_pref("app.normandy.enabled", false); user_pref("app.normandy.api_url", "");
user_pref("app.shield.optoutstudies.enabled", false);
user_pref("services.settings.server", "data:,#remote-settings-dummy/v1");
user_pref("security.remote_settings.intermediates.enabled", false);
user_pref("security.remote_settings.crlite_filters.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("datareporting.usage.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false); user_pref("toolkit.telemetry.unified", false);
user_pref("toolkit.telemetry.server", ""); user_pref("browser.backup.enabled", false);
// No connectivity probes, prefetching, push, search, location or add-on updates.
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.dns.disablePrefetch", true); user_pref("network.prefetch-next", false);
user_pref("network.http.speculative-parallel-limit", 0); user_pref("dom.push.connection.enabled", false);
user_pref("browser.search.update", false); user_pref("browser.region.network.url", "");
user_pref("browser.topsites.contile.enabled", false); user_pref("geo.provider.network.url", "");
user_pref("extensions.update.enabled", false); user_pref("extensions.getAddons.cache.enabled", false);
user_pref("extensions.systemAddon.update.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.blockedURIs.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.downloads.remote.enabled", false);
user_pref("browser.safebrowsing.provider.google4.updateURL", "");
user_pref("browser.safebrowsing.provider.mozilla.updateURL", "");
// And whatever else the remote agent recommends for automation (the default, but said here).
user_pref("remote.prefs.recommended", true);
