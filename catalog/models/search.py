"""Searches that found nothing, so editors can add "also known as" terms or promote
a service for them."""

from django.db import models


class SearchMiss(models.Model):
    query_string = models.CharField(max_length=255, unique=True)
    count = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-count", "query_string"]
        verbose_name = "search that found nothing"
        verbose_name_plural = "searches that found nothing"

    def __str__(self):
        return self.query_string
