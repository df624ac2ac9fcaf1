# frozen_string_literal: true

# An Atom feed per category (/feed/<slug>.xml), by jekyll-feed, without listing
# the categories in _config.yml: new categories appear as articles are crawled.
# Runs before jekyll-feed (priority :highest against its :lowest) and only
# fills `feed.categories` when _config.yml does not set it, so a list written
# there by hand wins.  Under --safe (GitHub Pages) no plugin runs: list the
# categories in _config.yml there (`feed: {categories: [kejiribao, …]}`).
module Finews
  class CategoryFeeds < Jekyll::Generator
    safe true
    priority :highest

    def generate(site)
      feed = (site.config["feed"] ||= {})
      @managed = !feed.key?("categories") if @managed.nil?
      feed["categories"] = site.categories.keys.sort if @managed
    end
  end
end
