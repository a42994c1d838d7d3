// The evidence list's autocomplete filters: choosing a record reloads the
// list filtered by it (therapies/admin/filters.py). Select2 reports its
// changes through jQuery, so the listener is jQuery's, bound once the page
// has loaded (django.jQuery is set by admin/js/jquery.init.js).
"use strict";
window.addEventListener("DOMContentLoaded", function () {
    django.jQuery(document).on("change", "select.her2db-filter-select", function () {
        const url = new URL(window.location.href);
        const parameter = this.dataset.filterParameter;
        if (this.value) {
            url.searchParams.set(parameter, this.value);
        } else {
            url.searchParams.delete(parameter);
        }
        url.searchParams.delete("p");
        window.location.assign(url.toString());
    });
});
