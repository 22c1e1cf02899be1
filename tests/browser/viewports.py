"""Screen sizes the journeys check, and the one check made at the narrowest."""

from playwright.sync_api import TimeoutError as PlaywrightTimeout

NARROW = {"width": 320, "height": 800}
WIDE = {"width": 1280, "height": 900}

# Charts and other parts that follow the viewport re-lay themselves out after
# a resize (a ResizeObserver, then an animation frame), so the check waits for
# the page to settle rather than reading the width at once.
SETTLE_MS = 3000


def fits_320(page, screenshot, name: str) -> bool:
    """No sideways scrolling on a 320 px wide phone (and a picture to look at)."""
    page.set_viewport_size(NARROW)
    try:
        page.wait_for_function(
            "document.documentElement.scrollWidth <= 320", timeout=SETTLE_MS
        )
        fits = True
    except PlaywrightTimeout:
        fits = False
    screenshot(page, name)
    page.set_viewport_size(WIDE)
    return fits
