"""URLs of the gradebook under /s/<code>/gradebook/, one module per area."""

from gradebook.urls_parts import (
    correction_urls,
    excel_urls,
    exemption_urls,
    grid_urls,
    homeroom_urls,
    summary_urls,
    summer_urls,
)

app_name = "gradebook"
urlpatterns = [
    *grid_urls.urlpatterns,
    *homeroom_urls.urlpatterns,
    *summary_urls.urlpatterns,
    *correction_urls.urlpatterns,
    *excel_urls.urlpatterns,
    *exemption_urls.urlpatterns,
    *summer_urls.urlpatterns,
]
